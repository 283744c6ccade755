import type { ApprovedTemplate, SendTemplateRequest } from '../conversation/ports.ts';
import { describeGraphError } from './connection-checks.ts';
import { isRecord, parseJsonObject } from './graph-json.ts';

/**
 * Message templates on the WhatsApp Cloud API: reading a WABA's templates
 * (`GET /{waba-id}/message_templates?fields=name,status,language,category,components`, following
 * `paging.next`), the body of a template send, and how a reply's text fills a template's body
 * parameters within Meta's limits. Outside the 24-hour customer service window only a template
 * reaches the customer (service-window.ts).
 */

/** Meta's limit for a template's body, the parameters' text included. */
export const MAX_TEMPLATE_BODY = 1024;
/** A safety stop: a WABA holds at most a few hundred templates (pages of 100). */
const MAX_PAGES = 20;

/** Why a WABA's templates could not be read, in the terms the API answers with. */
export type TemplateListFailure =
  /** The token was refused (190). */
  | 'token_invalid'
  /** The WABA id is wrong or not visible to the token (100). */
  | 'waba_not_found'
  /** The token lacks whatsapp_business_management (10, 200–299). */
  | 'permission'
  /** No answer, a timeout or a 5xx: a later attempt may work. */
  | 'unavailable'
  /** Anything else Meta refused. */
  | 'refused';

export class TemplateListError extends Error {
  constructor(
    readonly failure: TemplateListFailure,
    /** A plain sentence, safe to show (never the token). */
    readonly detail: string,
  ) {
    super(`the message templates could not be read: ${detail}`);
    this.name = 'TemplateListError';
  }
}

export interface TemplateListRequest {
  graphBaseUrl: string;
  graphVersion: string;
  wabaId: string;
  accessToken: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Every template of the WABA that is APPROVED, in Meta's order. */
export async function fetchApprovedTemplates(request: TemplateListRequest): Promise<ApprovedTemplate[]> {
  if (!/^\d{1,32}$/.test(request.wabaId)) {
    throw new TemplateListError('waba_not_found', 'the waba_id must be the number Meta shows (digits only)');
  }
  const doFetch = request.fetch ?? fetch;
  const base = `${request.graphBaseUrl.replace(/\/+$/, '')}/${request.graphVersion}`;
  let url: string | undefined =
    `${base}/${request.wabaId}/message_templates?` +
    new URLSearchParams({ fields: 'name,status,language,category,components', limit: '100' }).toString();
  const templates: ApprovedTemplate[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const body = await getPage(doFetch, url, request);
    const data = Array.isArray(body.data) ? body.data : [];
    for (const item of data) {
      const template = parseTemplate(item);
      if (template?.status === 'APPROVED') templates.push(template);
    }
    const paging = isRecord(body.paging) ? body.paging : undefined;
    url = typeof paging?.next === 'string' && samePlace(paging.next, base) ? paging.next : undefined;
  }
  return templates;
}

/**
 * The ids of the phone numbers a WABA holds (`GET /{waba-id}/phone_numbers?fields=id`): with a
 * token that reaches many businesses (the platform's), a tenant may read only its own number's WABA.
 */
export async function fetchWabaPhoneNumberIds(request: TemplateListRequest): Promise<string[]> {
  if (!/^\d{1,32}$/.test(request.wabaId)) {
    throw new TemplateListError('waba_not_found', 'the waba_id must be the number Meta shows (digits only)');
  }
  const doFetch = request.fetch ?? fetch;
  const base = `${request.graphBaseUrl.replace(/\/+$/, '')}/${request.graphVersion}`;
  let url: string | undefined = `${base}/${request.wabaId}/phone_numbers?fields=id&limit=100`;
  const ids: string[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const body = await getPage(doFetch, url, request);
    for (const item of Array.isArray(body.data) ? body.data : []) {
      if (isRecord(item) && typeof item.id === 'string') ids.push(item.id);
    }
    const paging = isRecord(body.paging) ? body.paging : undefined;
    url = typeof paging?.next === 'string' && samePlace(paging.next, base) ? paging.next : undefined;
  }
  return ids;
}

/** Follows `paging.next` only to the Graph API it came from: the token goes nowhere else. */
function samePlace(next: string, base: string): boolean {
  try {
    return new URL(next).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

async function getPage(
  doFetch: typeof fetch,
  url: string,
  request: TemplateListRequest,
): Promise<Record<string, unknown>> {
  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, {
      headers: { accept: 'application/json', authorization: `Bearer ${request.accessToken}` },
      signal: AbortSignal.timeout(request.timeoutMs ?? 8_000),
    });
    text = await response.text();
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    throw new TemplateListError(
      'unavailable',
      timedOut ? 'the Graph API did not answer in time' : 'the Graph API could not be reached',
    );
  }
  const json = parseJsonObject(text);
  if (response.ok && json) return json;
  const error = isRecord(json?.error) ? json.error : undefined;
  const code = typeof error?.code === 'number' ? error.code : undefined;
  const detail = describeGraphError(code, response.status, 'needs whatsapp_business_management');
  if (code === 190 || response.status === 401) throw new TemplateListError('token_invalid', detail);
  if (code === 100) throw new TemplateListError('waba_not_found', detail);
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) {
    throw new TemplateListError('permission', detail);
  }
  if (response.status >= 500 || response.status === 429 || response.ok) {
    throw new TemplateListError('unavailable', detail);
  }
  throw new TemplateListError('refused', detail);
}

/** One template of Meta's list, or undefined when it lacks a name, language or status. */
export function parseTemplate(item: unknown): ApprovedTemplate | undefined {
  if (!isRecord(item)) return undefined;
  const { name, language, status, category } = item;
  if (typeof name !== 'string' || typeof language !== 'string' || typeof status !== 'string')
    return undefined;
  const components = Array.isArray(item.components) ? item.components.filter(isRecord) : [];
  const body = components.find((component) => String(component.type).toUpperCase() === 'BODY');
  const bodyText = typeof body?.text === 'string' ? body.text : undefined;
  const placeholders = placeholdersOf(bodyText ?? '');
  const named = placeholders.some((placeholder) => !/^\d+$/.test(placeholder));
  return {
    name,
    language,
    status,
    ...(typeof category === 'string' ? { category } : {}),
    body_parameters: placeholders.length,
    ...(named ? { parameter_names: placeholders } : {}),
    ...(bodyText !== undefined ? { body_text: bodyText } : {}),
  };
}

/** The distinct `{{…}}` placeholders of a body, in the order they first appear. */
function placeholdersOf(text: string): string[] {
  const seen: string[] = [];
  for (const match of text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)) {
    const name = match[1]!;
    if (!seen.includes(name)) seen.push(name);
  }
  // Positional ones in number order ({{2}} may come before {{1}} in the text).
  return seen.every((name) => /^\d+$/.test(name)) ? seen.sort((a, b) => Number(a) - Number(b)) : seen;
}

/**
 * The body parameters that carry `reply` in `template`. Meta refuses a parameter with a newline, a
 * tab or more than four spaces in a row (132018), and a body over 1024 characters: the reply is
 * flattened to one line and cut (with "…") to what the body's fixed text leaves. One parameter gets
 * the whole reply; several share it, split at word boundaries, so a body such as "{{1}} {{2}}"
 * reads the reply in order. None: the template is sent as it is.
 */
export function templateParameters(
  template: Pick<ApprovedTemplate, 'body_parameters' | 'parameter_names' | 'body_text'>,
  reply: string,
): Array<{ text: string; name?: string }> {
  const count = template.body_parameters;
  if (count <= 0) return [];
  const fixed = (template.body_text ?? '').replace(/\{\{\s*[A-Za-z0-9_]+\s*\}\}/g, '').length;
  const budget = Math.max(count, MAX_TEMPLATE_BODY - fixed);
  const flat = reply.replace(/\s+/g, ' ').trim() || '…';
  const text = flat.length > budget ? `${flat.slice(0, budget - 1).trimEnd()}…` : flat;
  const pieces = splitInto(text, count);
  return pieces.map((piece, index) => {
    const name = template.parameter_names?.[index];
    return name ? { text: piece, name } : { text: piece };
  });
}

/** `text` in `count` non-empty pieces of about equal length, cut between words where it can. */
function splitInto(text: string, count: number): string[] {
  if (count === 1) return [text];
  const words = text.split(' ');
  const pieces: string[] = [];
  let rest = words;
  for (let left = count; left > 1; left--) {
    const target = rest.join(' ').length / left;
    let taken = 0;
    let length = 0;
    while (taken < rest.length - (left - 1) && (taken === 0 || length + rest[taken]!.length < target)) {
      length += rest[taken]!.length + 1;
      taken++;
    }
    pieces.push(rest.slice(0, taken).join(' ') || '…');
    rest = rest.slice(taken);
  }
  pieces.push(rest.join(' ') || '…');
  return pieces;
}

/** The Graph body of a template send (DESIGN §8): `to` for a wa_id, `recipient` for a user id. */
export function buildTemplateMessageBody(
  request: Pick<SendTemplateRequest, 'name' | 'language' | 'bodyParameters'>,
  recipient: { to: string } | { recipient: string },
): Record<string, unknown> {
  const parameters = request.bodyParameters.map((parameter) => ({
    type: 'text',
    text: parameter.text,
    ...(parameter.name ? { parameter_name: parameter.name } : {}),
  }));
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    ...recipient,
    type: 'template',
    template: {
      name: request.name,
      language: { code: request.language },
      ...(parameters.length > 0 ? { components: [{ type: 'body', parameters }] } : {}),
    },
  };
}
