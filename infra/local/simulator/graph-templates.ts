import { type GraphEndpoint, versionedPath } from './graph-api.ts';
import { GraphRequestError, invalidParameter, unknownObject } from './graph-errors.ts';
import { isRecord } from './http.ts';

/**
 * Message templates in the Graph stand-in:
 * - `GET /{version}/{waba-id}/message_templates?fields=…&limit=…&after=…`: the WABA's templates in
 *   Meta's shape (`data[]` with `name`, `status`, `language`, `category`, `components`; `paging` with
 *   `cursors` and a `next` URL while more remain). Every numeric WABA id has {@link DEMO_TEMPLATES}
 *   unless a test gave it its own ({@link SimulatorTemplates.set}).
 * - the check a template send gets (graph-messages.ts): Meta's 132001 for a template that is not
 *   approved in that language on any WABA the simulator knows, 132000 when the body's parameters do
 *   not match, and the body rendered with them (what the customer would read).
 */

/** A template as Meta lists it. */
export interface SimulatedTemplate {
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  category: 'UTILITY' | 'MARKETING' | 'AUTHENTICATION';
  /** The body text with `{{1}}`… placeholders. */
  body: string;
}

/** What every WABA of the simulator has, unless a test says otherwise: one approved template per language. */
export const DEMO_TEMPLATES: readonly SimulatedTemplate[] = [
  {
    name: 'respuesta_pendiente',
    language: 'es',
    status: 'APPROVED',
    category: 'UTILITY',
    body: 'Hola, te respondemos a tu mensaje: {{1}}',
  },
  {
    name: 'pending_reply',
    language: 'en',
    status: 'APPROVED',
    category: 'UTILITY',
    body: 'Hello, here is the answer to your message: {{1}}',
  },
  {
    name: 'oferta_semanal',
    language: 'es',
    status: 'PENDING',
    category: 'MARKETING',
    body: 'Esta semana: {{1}}',
  },
];

export interface SimulatorTemplates {
  /** The templates of a WABA (its own, else the demo ones). */
  of(wabaId: string): readonly SimulatedTemplate[];
  /** Gives a WABA its own templates. */
  set(wabaId: string, templates: readonly SimulatedTemplate[]): void;
  /** The approved template of that name and language on any WABA, if one is. */
  findApproved(name: string, language: string): SimulatedTemplate | undefined;
  reset(): void;
}

export function createSimulatorTemplates(): SimulatorTemplates {
  const byWaba = new Map<string, readonly SimulatedTemplate[]>();
  return {
    of: (wabaId) => byWaba.get(wabaId) ?? DEMO_TEMPLATES,
    set: (wabaId, templates) => {
      byWaba.set(
        wabaId,
        templates.map((template) => ({ ...template })),
      );
    },
    findApproved(name, language) {
      for (const list of [DEMO_TEMPLATES, ...byWaba.values()]) {
        const found = list.find((t) => t.name === name && t.language === language && t.status === 'APPROVED');
        if (found) return found;
      }
      return undefined;
    },
    reset: () => byWaba.clear(),
  };
}

const PAGE_LIMIT_MAX = 100;

/** `GET /{version}/{waba-id}/message_templates`. */
export function createTemplatesEndpoint(templates: SimulatorTemplates, prefix: string): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (request.method !== 'GET' || path?.edge !== 'message_templates') return false;
    request.requireToken();
    if (request.injectFault()) return true;
    if (!/^\d+$/.test(path.objectId)) throw unknownObject(path.objectId);
    const { searchParams } = request.url;
    const limit = Math.min(PAGE_LIMIT_MAX, Math.max(1, Number(searchParams.get('limit') ?? 25) || 25));
    const start = Number(searchParams.get('after') ?? 0) || 0;
    const all = templates.of(path.objectId);
    const page = all.slice(start, start + limit);
    const body: Record<string, unknown> = {
      data: page.map((template, index) => ({
        name: template.name,
        status: template.status,
        language: template.language,
        category: template.category,
        components: [{ type: 'BODY', text: template.body }],
        id: String(9_000_000_000 + start + index),
      })),
      paging: { cursors: { before: String(start), after: String(start + page.length) } },
    };
    if (start + page.length < all.length) {
      // Meta's `next` is an absolute URL of its own host: here, the one the request came to.
      const next = new URL(request.url.href);
      const host = request.req.headers.host;
      if (host) next.host = host;
      next.pathname = `${prefix}/${request.segments.join('/')}`;
      next.searchParams.set('after', String(start + page.length));
      next.searchParams.set('limit', String(limit));
      (body.paging as Record<string, unknown>).next = next.href;
    }
    request.answer(200, body);
    return true;
  };
}

/**
 * What a template send says to the customer, checked like Meta checks it: the template approved in
 * that language, and as many body parameters as its body has placeholders.
 */
export function renderTemplateSend(templates: SimulatorTemplates, template: unknown): { text: string } {
  if (!isRecord(template) || typeof template.name !== 'string' || !template.name) {
    throw invalidParameter('The parameter template[name] is required.');
  }
  const language = isRecord(template.language) ? template.language.code : undefined;
  if (typeof language !== 'string' || !language) {
    throw invalidParameter('The parameter template[language][code] is required.');
  }
  const found = templates.findApproved(template.name, language);
  if (!found) {
    throw new GraphRequestError(
      404,
      132001,
      `(#132001) Template name does not exist in the translation: template name (${template.name}) does not exist in ${language}`,
    );
  }
  const components = Array.isArray(template.components) ? template.components : [];
  const body = components.find((component) => isRecord(component) && component.type === 'body');
  const parameters = isRecord(body) && Array.isArray(body.parameters) ? body.parameters : [];
  const texts = parameters.map((parameter) => {
    if (!isRecord(parameter) || parameter.type !== 'text' || typeof parameter.text !== 'string') {
      throw invalidParameter('Each body parameter must be {"type":"text","text":…}.');
    }
    if (/[\n\t]| {5,}/.test(parameter.text)) {
      throw new GraphRequestError(
        400,
        132018,
        '(#132018) There was an issue with the parameters in your template: a parameter cannot have new-line/tab characters or more than 4 consecutive spaces',
      );
    }
    return parameter.text;
  });
  const placeholders = new Set([...found.body.matchAll(/\{\{(\d+)\}\}/g)].map((match) => match[1]));
  if (placeholders.size !== texts.length) {
    throw new GraphRequestError(
      400,
      132000,
      `(#132000) Number of parameters does not match the expected number of params: expected ${placeholders.size}, got ${texts.length}`,
    );
  }
  const text = found.body.replace(/\{\{(\d+)\}\}/g, (_, n: string) => texts[Number(n) - 1] ?? '');
  if (text.length > 1024) {
    throw invalidParameter('The template body with its parameters must be at most 1024 characters.');
  }
  return { text };
}
