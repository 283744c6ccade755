import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { presentsSimulatorToken, SIMULATOR_TOKEN_HEADER } from '../simulator-token.ts';
import {
  acceptsSameOriginJson,
  customerNameSchema,
  phoneNumberIdSchema,
  userIdSchema,
  waIdSchema,
} from './chat-api-common.ts';
import { getMedia, type MediaRouteOptions, postMedia } from './chat-api-media.ts';
import { MAX_TEXT } from './graph-messages.ts';
import { describeIssues, isUnder, messageOf, readJson, requestUrl, sendJson } from './http.ts';
import { deriveUserId, type InboundMessageInput } from './inbound-payloads.ts';
import type { SimulatorStore } from './store.ts';
import type { SimulatorBusiness, SimulatorPart } from './types.ts';

/**
 * The chat page's API under `/simulator/api/`: the businesses to write to, a customer message to
 * deliver (signed with the App Secret), a customer's audio, image or document likewise
 * (chat-api-media.ts), and one customer's conversation. It signs and shows tenants, so it answers
 * only a caller holding this run's token (the page embeds it, `npm run simulate` reads it from
 * DATA_DIR); the servers that mount it answer loopback Host names only (no DNS rebinding).
 */

export { isSameOrigin } from './chat-api-common.ts';

export const CHAT_API_PREFIX = '/simulator/api';
const TYPING_MS = 25_000;

const postMessageSchema = z
  .object({
    phone_number_id: phoneNumberIdSchema,
    from: waIdSchema.optional(),
    user_id: userIdSchema.optional(),
    name: customerNameSchema.optional(),
    text: z
      .string()
      .refine((value) => value.trim().length > 0, 'text must not be empty')
      .refine((value) => value.length <= MAX_TEXT, `text must be at most ${MAX_TEXT} characters`),
  })
  .strict()
  .refine((value) => value.from !== undefined || value.user_id !== undefined, 'from or user_id is required');

const conversationQuerySchema = z.object({
  phone_number_id: phoneNumberIdSchema,
  contact: z.string().regex(/^[A-Za-z0-9_.-]{1,70}$/, 'must be a wa_id or a user id'),
});

export interface ChatApiOptions extends MediaRouteOptions {
  token: string;
  store: SimulatorStore;
  listBusinesses?: () => Promise<SimulatorBusiness[]>;
  /** Whether there is a webhook to deliver to now (it can be set after start). */
  hasWebhook: () => boolean;
  sendAsCustomer: (input: InboundMessageInput) => Promise<{ status: number; messageId: string }>;
}

export function createChatApi(options: ChatApiOptions): SimulatorPart {
  return async (req, res) => {
    const url = requestUrl(req);
    if (!isUnder(url.pathname, CHAT_API_PREFIX) || url.pathname === CHAT_API_PREFIX) return false;
    if (!presentsSimulatorToken(req, options.token)) {
      sendJson(res, 401, {
        error: 'unauthorized',
        message: `missing or invalid ${SIMULATOR_TOKEN_HEADER}: it changes at every start (reload the chat page)`,
      });
      return true;
    }
    const route = `${req.method ?? 'GET'} ${url.pathname.slice(CHAT_API_PREFIX.length)}`;
    if (route === 'GET /businesses') await listBusinesses(res, options);
    else if (route === 'POST /messages') await postMessage(req, res, options);
    else if (route === 'POST /media') await postMedia(req, res, options);
    else if (route === 'GET /media') getMedia(url, res, options.store);
    else if (route === 'GET /conversation') getConversation(url, res, options.store);
    else sendJson(res, 404, { error: 'not_found', message: 'not found' });
    return true;
  };
}

async function listBusinesses(res: ServerResponse, options: ChatApiOptions): Promise<void> {
  try {
    const businesses = options.listBusinesses ? await options.listBusinesses() : [];
    sendJson(res, 200, {
      businesses: businesses.map(({ phoneNumberId, name }) => ({ phone_number_id: phoneNumberId, name })),
    });
  } catch {
    sendJson(res, 502, { error: 'businesses_unavailable', message: 'could not list the businesses' });
  }
}

async function postMessage(
  req: IncomingMessage,
  res: ServerResponse,
  options: ChatApiOptions,
): Promise<void> {
  if (!acceptsSameOriginJson(req, res)) return;
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (error) {
    sendJson(res, 400, { error: 'validation_error', message: messageOf(error) });
    return;
  }
  const parsed = postMessageSchema.safeParse(body);
  if (!parsed.success) {
    sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
    return;
  }
  if (!options.hasWebhook()) {
    sendJson(res, 503, { error: 'no_webhook', message: 'the simulator has no webhook URL configured' });
    return;
  }
  const input = parsed.data;
  // Like WhatsApp in 2026, every customer also has a business-scoped user id.
  const userId = input.user_id ?? (input.from ? deriveUserId(input.from) : undefined);
  try {
    const result = await options.sendAsCustomer({
      phoneNumberId: input.phone_number_id,
      text: input.text,
      ...(input.from ? { from: input.from } : {}),
      ...(userId ? { userId } : {}),
      ...(input.name ? { name: input.name } : {}),
    });
    sendJson(res, 200, { message_id: result.messageId, webhook_status: result.status });
  } catch {
    sendJson(res, 502, { error: 'webhook_unreachable', message: 'the webhook did not answer' });
  }
}

function getConversation(url: URL, res: ServerResponse, store: SimulatorStore): void {
  const parsed = conversationQuerySchema.safeParse({
    phone_number_id: url.searchParams.get('phone_number_id') ?? undefined,
    contact: url.searchParams.get('contact') ?? undefined,
  });
  if (!parsed.success) {
    sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
    return;
  }
  const { phone_number_id: phoneNumberId, contact } = parsed.data;
  const messages = store.conversation(phoneNumberId, contact).slice(-200);
  sendJson(res, 200, { messages, typing: store.isTyping(phoneNumberId, messages, TYPING_MS) });
}
