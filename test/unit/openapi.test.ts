import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { routeDocs } from '../../lib/docs/api-reference.ts';
import {
  buildOpenApiDocument,
  JSON_SCHEMA_DIALECT,
  openApiJson,
  operationIdOf,
  parseResponses,
} from '../../lib/docs/openapi.ts';
import { allRoutes } from '../../lib/topology.ts';
import { CONTENT_SECURITY_POLICY } from '../../lib/web/html.ts';
import { webRoutes } from '../../lib/web/web-routes.ts';

/**
 * GET /openapi.json: an OpenAPI 3.1 document built from the topology and the same route docs and zod
 * schemas as docs/api.md. These tests fail when the two drift apart.
 */

const doc = buildOpenApiDocument() as any;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const operations = (): Array<{ method: string; path: string; op: any }> =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );

const zodJson = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  expect($schema).toBe(JSON_SCHEMA_DIALECT);
  return rest;
};

/** docs/api.md as written on disk: its route headings and the JSON blocks under each. */
function apiMarkdownSections(): Map<string, string> {
  const markdown = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const sections = new Map<string, string>();
  for (const chunk of markdown.split(/^## /m).slice(1)) {
    const heading = /^`([A-Z]+ \S+)`/.exec(chunk);
    if (heading) sections.set(heading[1]!, chunk);
  }
  return sections;
}

const jsonBlockAfter = (section: string, label: string): unknown => {
  const block = new RegExp(`^${label}\\n\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``, 'm').exec(section);
  return block ? JSON.parse(block[1]!) : undefined;
};

const event = (headers: Record<string, string> = {}) => ({ headers }) as unknown as APIGatewayProxyEventV2;

describe('the OpenAPI document', () => {
  it('has the shape of OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.jsonSchemaDialect).toBe(JSON_SCHEMA_DIALECT);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    expect(doc.servers).toEqual([{ url: '/' }]);
    const tagNames = new Set(doc.tags.map((t: { name: string }) => t.name));
    const ids = new Set<string>();
    for (const { path, op } of operations()) {
      expect(path.startsWith('/')).toBe(true);
      expect(op.operationId).toMatch(/^[a-zA-Z0-9]+$/);
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
      expect(op.tags).toHaveLength(1);
      expect(tagNames.has(op.tags[0])).toBe(true);
      expect(op.summary.length).toBeGreaterThan(0);
      // Every response is keyed by a status code (or a range) and has a description.
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const [status, response] of Object.entries<any>(op.responses)) {
        expect(status).toMatch(/^(?:[1-5]\d\d|[1-5]XX|default)$/);
        expect(response.description.length).toBeGreaterThan(0);
        for (const media of Object.values<any>(response.content ?? {})) {
          if (media.schema.$ref) expect(media.schema.$ref).toBe('#/components/schemas/Error');
        }
      }
      // Path templates and path parameters match one to one; parameters are unique by name and place.
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const params = (op.parameters ?? []) as Array<{ name: string; in: string; required?: boolean }>;
      expect(params.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(templated);
      for (const p of params) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        if (p.in === 'path') expect(p.required).toBe(true);
      }
      expect(new Set(params.map((p) => `${p.in}:${p.name}`)).size).toBe(params.length);
      // Security names only schemes the document declares.
      for (const requirement of op.security) {
        for (const name of Object.keys(requirement))
          expect(doc.components.securitySchemes).toHaveProperty(name);
      }
    }
  });

  it('declares the operator and tenant keys as bearer schemes, and the pages’ session cookie', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.operatorKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.tenantKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'wa_session' });
  });

  it('has every route of the topology, with its method and who may call it', () => {
    const routes = allRoutes();
    expect(operations()).toHaveLength(routes.length);
    for (const route of routes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op.operationId).toBe(operationIdOf(route));
      expect(op['x-auth']).toBe(route.auth);
      const schemes = op.security.flatMap((r: object) => Object.keys(r));
      if (route.auth === 'operator-key') expect(schemes).toEqual(['operatorKey', 'session']);
      if (route.auth === 'tenant-key') expect(schemes).toEqual(['tenantKey', 'session']);
      if (route.auth === 'meta-signature') expect(schemes).toHaveLength(1);
      if (route.auth === 'none') expect(schemes.filter((s: string) => s.endsWith('Key'))).toEqual([]);
    }
    expect(doc.paths['/openapi.json'].get).toBeDefined();
    expect(doc.paths['/docs'].get).toBeDefined();
  });

  it('takes bodies, queries and response bodies from the zod schemas the handlers validate with', () => {
    let bodies = 0;
    for (const route of allRoutes()) {
      const key = `${route.method} ${route.path}`;
      const routeDoc = routeDocs[key]!;
      const op = doc.paths[route.path][route.method.toLowerCase()];
      if (routeDoc.body) {
        bodies++;
        expect(op.requestBody.content['application/json'].schema, key).toEqual(
          zodJson(routeDoc.body, 'input'),
        );
      } else {
        expect(op.requestBody, key).toBeUndefined();
      }
      const query = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query');
      if (routeDoc.query) {
        const schema = zodJson(routeDoc.query, 'input') as { properties: object; required?: string[] };
        expect(Object.fromEntries(query.map((p: any) => [p.name, p.schema])), key).toEqual(schema.properties);
        for (const p of query) expect(p.required).toBe((schema.required ?? []).includes(p.name));
      } else {
        expect(query, key).toEqual([]);
      }
      if (routeDoc.response) {
        const success = op.responses['200'] ?? op.responses['202'];
        expect(success.content['application/json'].schema, key).toEqual(zodJson(routeDoc.response, 'output'));
      }
      expect(op.description).toContain(routeDoc.summary);
      expect(op.description).toContain(routeDoc.responses);
    }
    expect(bodies).toBeGreaterThanOrEqual(5);
    expect(doc.paths['/admin/purge'].post.requestBody.required).toBe(false);
    expect(doc.paths['/clients'].post.requestBody.required).toBe(true);
  });

  it('reads the documented responses by status code', () => {
    expect(parseResponses('201 the client; 400 with `details[]`; 401; 5xx when the queue is down')).toEqual([
      { status: '201', description: 'the client' },
      { status: '400', description: 'with `details[]`' },
      { status: '401', description: '' },
      { status: '5XX', description: 'when the queue is down' },
    ]);
    expect(parseResponses('200 `{"a":1}`; then more; 404')).toEqual([
      { status: '200', description: '`{"a":1}`; then more' },
      { status: '404', description: '' },
    ]);
    const clients = doc.paths['/clients'].post.responses;
    expect(Object.keys(clients)).toEqual(['201', '400', '401', '409', '413', '415']);
    expect(clients['409'].description).toBe('the number belongs to an active client');
    expect(clients['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.paths['/console'].get.responses['200'].content).toHaveProperty('text/html');
  });
});

describe('the OpenAPI document and docs/api.md', () => {
  it('list the same routes (run `npm run docs:api` after changing the topology or the docs)', () => {
    const markdownRoutes = [...apiMarkdownSections().keys()].sort();
    const documentRoutes = operations()
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    expect(documentRoutes).toEqual(markdownRoutes);
  });

  it('show the same body, query and response schemas', () => {
    const sections = apiMarkdownSections();
    for (const { method, path, op } of operations()) {
      const section = sections.get(`${method} ${path}`)!;
      const withDialect = (schema: object | undefined) =>
        schema === undefined ? undefined : { $schema: JSON_SCHEMA_DIALECT, ...schema };
      expect(jsonBlockAfter(section, 'Body:'), `${method} ${path}`).toEqual(
        withDialect(op.requestBody?.content['application/json'].schema),
      );
      expect(jsonBlockAfter(section, 'Response \\(200\\):'), `${method} ${path}`).toEqual(
        withDialect(op.responses['200']?.content?.['application/json']?.schema),
      );
      expect(jsonBlockAfter(section, 'Response \\(202\\):'), `${method} ${path}`).toEqual(
        withDialect(op.responses['202']?.content?.['application/json']?.schema),
      );
      const query = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query');
      const markdownQuery = jsonBlockAfter(section, 'Query:') as { properties?: object } | undefined;
      expect(markdownQuery?.properties ?? {}, `${method} ${path}`).toEqual(
        Object.fromEntries(query.map((p: any) => [p.name, p.schema])),
      );
    }
  });
});

describe('GET /openapi.json and GET /docs', () => {
  it('serves the document as JSON, revalidated on every load', async () => {
    const res = await webRoutes['GET /openapi.json']!(event(), {} as never);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/^application\/json/);
    expect(res.headers?.['cache-control']).toBe('no-cache');
    expect(JSON.parse(res.body as string)).toEqual(doc);
    expect(res.body).toBe(openApiJson());
  });

  it('serves the viewer as a page with no inline script or style', async () => {
    const res = await webRoutes['GET /docs']!(event({ 'accept-language': 'en' }), {} as never);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const body = res.body as string;
    expect(body).toMatch(/<script src="\/web\/assets\/[0-9a-f]{16}\/docs\.js" defer><\/script>/);
    expect(body).toMatch(/<link rel="stylesheet" href="\/web\/assets\/[0-9a-f]{16}\/docs\.css">/);
    expect(body).toContain('<html lang="en">');
    expect(body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('builds its nodes without innerHTML, inline handlers, style attributes or web storage', () => {
    const script = readFileSync(new URL('../../lib/web/assets/docs.js', import.meta.url), 'utf8')
      // Its comments say what it never does.
      .replace(/^\s*\/\/.*$/gm, '');
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(script).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB/);
    expect(script).not.toMatch(/\.style\b|setAttribute\('style'|setAttribute\('on/);
  });
});
