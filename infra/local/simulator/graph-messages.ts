import type { GraphEndpoint } from './graph-api.ts';
import { versionedPath } from './graph-api.ts';
import { invalidParameter } from './graph-errors.ts';
import { renderTemplateSend, type SimulatorTemplates } from './graph-templates.ts';
import { BodyError, isRecord, readJson } from './http.ts';
import { simulatedMessageId } from './inbound-payloads.ts';
import type { SimulatorStore } from './store.ts';
import type { SimulatedOutbound } from './types.ts';

/**
 * `POST /{version}/{phone-number-id}/messages`: a text or template message to a customer (by `to` or by
 * user id `recipient`; templates checked by graph-templates.ts), or a read receipt with an optional typing indicator. Validated like Meta (error 100 on
 * a bad body), recorded in the store, answered in Meta's shape.
 */

export const MAX_TEXT = 4096;

export function createMessagesEndpoint(store: SimulatorStore, templates: SimulatorTemplates): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (request.method !== 'POST' || path?.edge !== 'messages') return false;
    const { call } = request;
    call.phoneNumberId = path.objectId;
    const tokenSuffix = request.requireToken();
    let body: unknown;
    try {
      body = await readJson(request.req);
    } catch (error) {
      if (error instanceof BodyError) throw invalidParameter(error.message);
      throw error;
    }
    call.operation = isRecord(body) && body.status === 'read' ? 'read' : 'send';
    if (request.injectFault()) return true;
    request.answer(200, acceptMessagesCall(store, templates, path.objectId, tokenSuffix, body));
    return true;
  };
}

function acceptMessagesCall(
  store: SimulatorStore,
  templates: SimulatorTemplates,
  phoneNumberId: string,
  tokenSuffix: string,
  body: unknown,
): Record<string, unknown> {
  if (!isRecord(body)) throw invalidParameter('The request body must be a JSON object');
  if (body.messaging_product !== 'whatsapp') {
    throw invalidParameter('The parameter messaging_product is required and must be "whatsapp".');
  }
  if (body.status !== undefined) return acceptRead(store, phoneNumberId, tokenSuffix, body);
  return acceptText(store, templates, phoneNumberId, tokenSuffix, body);
}

function acceptRead(
  store: SimulatorStore,
  phoneNumberId: string,
  tokenSuffix: string,
  body: Record<string, unknown>,
): Record<string, unknown> {
  if (body.status !== 'read') throw invalidParameter('Param status must be "read".');
  if (typeof body.message_id !== 'string' || !body.message_id) {
    throw invalidParameter('The parameter message_id is required.');
  }
  const indicator = body.typing_indicator;
  if (indicator !== undefined && (!isRecord(indicator) || indicator.type !== 'text')) {
    throw invalidParameter('Param typing_indicator[type] must be "text".');
  }
  store.reads.push({
    phoneNumberId,
    messageId: body.message_id,
    typing: indicator !== undefined,
    tokenSuffix,
    at: new Date().toISOString(),
  });
  return { success: true };
}

function acceptText(
  store: SimulatorStore,
  templates: SimulatorTemplates,
  phoneNumberId: string,
  tokenSuffix: string,
  body: Record<string, unknown>,
): Record<string, unknown> {
  const to = typeof body.to === 'string' && body.to ? body.to : undefined;
  const recipient = typeof body.recipient === 'string' && body.recipient ? body.recipient : undefined;
  if (!to && !recipient) throw invalidParameter('The parameter to or recipient is required.');
  if (body.recipient_type !== undefined && body.recipient_type !== 'individual') {
    throw invalidParameter('Param recipient_type must be "individual".');
  }
  if (body.type === 'template') {
    const template = body.template as Record<string, unknown>;
    const { text } = renderTemplateSend(templates, template);
    const parameters = bodyParametersOf(template);
    const language = (template.language as { code: string }).code;
    return recordSent(
      store,
      { phoneNumberId, tokenSuffix, to, recipient, text },
      {
        template: { name: String(template.name), language, parameters },
      },
    );
  }
  if (body.type !== undefined && body.type !== 'text') {
    throw invalidParameter(
      `The simulator accepts only text and template messages, not ${String(body.type)}.`,
    );
  }
  const text = body.text;
  if (!isRecord(text) || typeof text.body !== 'string' || text.body.length === 0) {
    throw invalidParameter('The parameter text[body] is required.');
  }
  if (text.body.length > MAX_TEXT) {
    throw invalidParameter(`Param text[body] must be at most ${MAX_TEXT} characters long.`);
  }
  if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') {
    throw invalidParameter('Param text[preview_url] must be a boolean.');
  }
  let context: { message_id: string } | undefined;
  if (body.context !== undefined) {
    if (!isRecord(body.context) || typeof body.context.message_id !== 'string' || !body.context.message_id) {
      throw invalidParameter('Param context[message_id] must be a message id.');
    }
    context = { message_id: body.context.message_id };
  }
  return recordSent(
    store,
    { phoneNumberId, tokenSuffix, to, recipient, text: text.body },
    context ? { context } : {},
  );
}

/** The body parameters' texts of a template send (already checked by renderTemplateSend). */
function bodyParametersOf(template: Record<string, unknown>): string[] {
  const components = Array.isArray(template.components) ? template.components : [];
  const body = components.find((component) => isRecord(component) && component.type === 'body');
  const parameters = isRecord(body) && Array.isArray(body.parameters) ? body.parameters : [];
  return parameters.map((parameter) => String((parameter as { text: unknown }).text));
}

/** Records an accepted message and answers as Meta does. */
function recordSent(
  store: SimulatorStore,
  sent: { phoneNumberId: string; tokenSuffix: string; to?: string; recipient?: string; text: string },
  extra: Pick<SimulatedOutbound, 'context' | 'template'>,
): Record<string, unknown> {
  const { to, recipient } = sent;
  const message: SimulatedOutbound = {
    id: simulatedMessageId(),
    phoneNumberId: sent.phoneNumberId,
    text: sent.text,
    tokenSuffix: sent.tokenSuffix,
    at: new Date().toISOString(),
    ...(to ? { to } : {}),
    ...(recipient ? { recipient } : {}),
    ...extra,
  };
  store.recordOutbound(message);
  // `to` wins when both are present, like Meta.
  const contact = to ? { input: to, wa_id: to } : { input: recipient, user_id: recipient };
  return { messaging_product: 'whatsapp', contacts: [contact], messages: [{ id: message.id }] };
}
