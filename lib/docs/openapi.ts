import * as z from 'zod';
import { allRoutes, type FunctionName, type RouteSpec } from '../topology.ts';
import { routeDocs } from './api-reference.ts';
import type { RouteDoc } from './tenant-route-docs.ts';

/**
 * The OpenAPI 3.1 document served at `GET /openapi.json` (and shown by `GET /docs`): built from the
 * same topology (routes, who may call them) and the same route docs and zod schemas (bodies,
 * queries, response bodies) as docs/api.md, so the two cannot tell different stories; a unit test
 * compares their routes.
 */

type JsonSchema = Record<string, unknown>;
type Route = RouteSpec & { fn: FunctionName };

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * A zod schema as the JSON Schema the document embeds: `input` for what the caller sends, `output`
 * for what the API answers. The dialect is the document's (`jsonSchemaDialect`), so `$schema` goes;
 * a schema with `$defs` gets an `$id` so its local `$ref`s still resolve inside the document.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output', id: string): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return '$defs' in rest ? { $id: `urn:wa-tenant-assistant:schema:${id}`, ...rest } : rest;
}

export const securitySchemes = {
  operatorKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The operator key (`OPERATOR_API_KEY`): `Authorization: Bearer <key>`. Operator routes only.',
  },
  tenantKey: {
    type: 'http',
    scheme: 'bearer',
    description:
      "A tenant API key (`wta_live_…`): `Authorization: Bearer <key>`. `/tenant…` routes only; they act on that key's tenant.",
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'wa_session',
    description:
      'The session cookie of the web pages (`POST /web/sessions` sets it). It works instead of `Authorization` on the routes of the key it was opened with; requests that change something also need its `csrf_token` in `x-csrf-token`.',
  },
  metaSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: "Meta's HMAC-SHA256 of the raw body with the App Secret (`sha256=<hex>`).",
  },
  metaVerifyToken: {
    type: 'apiKey',
    in: 'query',
    name: 'hub.verify_token',
    description: "The verify token of the webhook subscription (Meta's subscription check).",
  },
} as const;

export type SecuritySchemeName = keyof typeof securitySchemes;
type SecurityRequirement = Partial<Record<SecuritySchemeName, string[]>>;

/** Routes whose handler also runs without a body (`parseJsonBody(…, { optional: true })`). */
const OPTIONAL_BODIES = new Set([
  'POST /admin/purge',
  'POST /clients/{id}/conversations/{contact}/handoff',
  'POST /tenant/conversations/{contact}/handoff',
]);

/** Routes of the sign-in that read the session cookie themselves (their topology auth is `none`). */
const SESSION_ROUTES = new Set(['GET /web/session', 'DELETE /web/session']);

export function securityOf(route: Route): SecurityRequirement[] {
  const key = `${route.method} ${route.path}`;
  switch (route.auth) {
    case 'operator-key':
      return [{ operatorKey: [] }, { session: [] }];
    case 'tenant-key':
      return [{ tenantKey: [] }, { session: [] }];
    case 'meta-signature':
      return route.method === 'GET' ? [{ metaVerifyToken: [] }] : [{ metaSignature: [] }];
    case 'none':
      return SESSION_ROUTES.has(key) ? [{ session: [] }] : [];
  }
}

/** The area a route belongs to: the viewer groups by it. */
export function tagOf(route: Route): string {
  if (route.fn === 'webhook') return 'Webhook (Meta)';
  if (route.fn === 'web') return 'Web pages';
  if (route.path.startsWith('/web/') || route.path === '/invitations/accept')
    return 'Sign-in and invitations';
  if (route.auth === 'tenant-key') return 'Tenant';
  if (route.path.startsWith('/admin/')) return 'Operator: administration';
  if (route.path.startsWith('/clients')) return 'Operator: clients';
  return 'Service';
}

const TAGS = [
  { name: 'Operator: clients', description: 'Clients (tenants), their keys, invitations and conversations.' },
  { name: 'Operator: administration', description: 'Retention purge and statistics.' },
  { name: 'Tenant', description: "A business's own routes, with its tenant API key." },
  { name: 'Sign-in and invitations', description: 'Invitations and the web pages’ session cookie.' },
  { name: 'Service', description: 'Health.' },
  { name: 'Webhook (Meta)', description: 'Deliveries and subscription checks from Meta.' },
  { name: 'Web pages', description: 'HTML pages, their static files, and this documentation.' },
];

const PATH_PARAMETER_DESCRIPTIONS: Record<string, string> = {
  id: 'The client id',
  contact: 'The WhatsApp id of the contact (URL-encoded)',
  key_id: 'The id of the API key',
  slug: 'The landing slug of the client',
  hash: 'The content hash of the file',
  name: 'The file name',
};

export const pathParameterNames = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);

export const operationIdOf = (route: Pick<RouteSpec, 'method' | 'path'>): string =>
  [
    route.method.toLowerCase(),
    ...route.path
      .split('/')
      .filter(Boolean)
      .map((segment) => {
        const name = segment.startsWith('{') ? `by_${segment.slice(1, -1)}` : segment;
        return name
          .split(/[^a-zA-Z0-9]+/)
          .filter(Boolean)
          .map((word) => word[0]!.toUpperCase() + word.slice(1))
          .join('');
      }),
  ].join('');

const STATUS_AT_START = /^([1-5]\d\d|[1-5]xx)\b\s*/i;

/**
 * The documented responses (`201 the client; 400 with …; 401`) by status code, each with its text
 * (or the standard phrase when it has none). Text that starts with no status code belongs to the
 * previous one.
 */
export function parseResponses(text: string): Array<{ status: string; description: string }> {
  const out: Array<{ status: string; description: string }> = [];
  for (const part of text.split(/;\s+(?=(?:[1-5]\d\d|[1-5]xx)\b)/i)) {
    const match = STATUS_AT_START.exec(part);
    if (match) {
      out.push({ status: match[1]!.toUpperCase(), description: part.slice(match[0].length).trim() });
    } else if (out.length > 0) {
      out[out.length - 1]!.description += `; ${part}`;
    } else {
      out.push({ status: 'default', description: part.trim() });
    }
  }
  return out;
}

const REASONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '400': 'Bad request',
  '401': 'Missing or wrong key',
  '403': 'Forbidden',
  '404': 'Not found',
  '409': 'Conflict',
  '410': 'Gone',
  '413': 'Too large',
  '415': 'Not JSON',
  '429': 'Too many requests (`Retry-After`)',
  '502': 'Bad gateway',
  '5XX': 'Server error',
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

function responsesOf(doc: RouteDoc, operationId: string): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const { status, description } of parseResponses(doc.responses)) {
    const entry: Record<string, unknown> = { description: description || REASONS[status] || status };
    const isError = /^[45]/.test(status);
    if (/^HTML\b/.test(description)) {
      entry.content = { 'text/html': { schema: { type: 'string' } } };
    } else if (/^SVG\b/.test(description)) {
      entry.content = { 'image/svg+xml': { schema: { type: 'string' } } };
    } else if (isError) {
      entry.content = { 'application/json': { schema: ERROR_REF } };
    } else if ((status === '200' || status === '202') && doc.response) {
      entry.content = {
        'application/json': { schema: jsonSchemaOf(doc.response, 'output', `${operationId}-response`) },
      };
    }
    responses[status] = entry;
  }
  return responses;
}

function queryParametersOf(doc: RouteDoc, operationId: string): unknown[] {
  if (!doc.query) return [];
  const schema = jsonSchemaOf(doc.query, 'input', `${operationId}-query`);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/** The first sentence of a summary, for the one-line `summary`; the whole text is the description. */
const firstSentence = (text: string) => /^(.+?[.!?])(?:\s|$)/.exec(text)?.[1] ?? text;

function operationOf(route: Route): Record<string, unknown> {
  const key = `${route.method} ${route.path}`;
  const doc = routeDocs[key];
  if (!doc) throw new Error(`no documentation for ${key}`);
  const operationId = operationIdOf(route);
  const parameters = [
    ...pathParameterNames(route.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      description: PATH_PARAMETER_DESCRIPTIONS[name] ?? name,
      schema: { type: 'string' },
    })),
    ...queryParametersOf(doc, operationId),
  ];
  return {
    operationId,
    tags: [tagOf(route)],
    summary: firstSentence(doc.summary),
    description: `${doc.summary}\n\nResponses: ${doc.responses}`,
    'x-auth': route.auth,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: !OPTIONAL_BODIES.has(key),
            content: {
              'application/json': { schema: jsonSchemaOf(doc.body, 'input', `${operationId}-body`) },
            },
          },
        }
      : {}),
    responses: responsesOf(doc, operationId),
    security: securityOf(route),
  };
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of allRoutes()) {
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = operationOf(route);
    paths[route.path] = item;
  }
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: JSON_SCHEMA_DIALECT,
    info: {
      title: 'WhatsApp tenant assistant API',
      version: '0.1.0',
      description:
        'Operator routes (`/clients…`, `/admin/…`) take the operator key; tenant routes (`/tenant…`) a tenant API key, and act on its tenant only. The wrong kind of key is 403; a missing or wrong key 401 (429 after 10 failures a minute from one address). Errors are JSON `{"error","message","details"}`. Bodies are JSON (`Content-Type: application/json`). The same reference, as text: docs/api.md.',
    },
    servers: [{ url: '/' }],
    tags: TAGS,
    paths,
    components: {
      securitySchemes,
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'A machine-readable code' },
            message: { type: 'string', description: 'The reason, in a sentence' },
            details: {
              type: 'array',
              description: 'On validation errors only: one reason per field',
              items: {
                type: 'object',
                required: ['field', 'message'],
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}

let cached: string | undefined;

/** The document as served (built once per process: it depends on code only). */
export function openApiJson(): string {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return cached;
}
