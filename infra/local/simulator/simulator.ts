import { createSimulatorToken } from '../simulator-token.ts';
import { createChatApi } from './chat-api.ts';
import { createChatPage } from './chat-page.ts';
import { createGraphApi, createGraphFaults } from './graph-api.ts';
import {
  addMedia,
  createMediaDownloadEndpoint,
  createMediaLookupEndpoint,
  issueMediaUrl,
  mediaSha256Base64,
} from './graph-media.ts';
import { createMessagesEndpoint } from './graph-messages.ts';
import { createGraphReadEndpoints } from './graph-read-endpoints.ts';
import { createSimulatorTemplates, createTemplatesEndpoint } from './graph-templates.ts';
import {
  buildInboundMediaPayload,
  buildInboundPayload,
  type CustomerMessageInput,
  deliverToWebhook,
  type InboundMessageInput,
  signDelivery,
  simulatedMessageId,
} from './inbound-payloads.ts';
import { composeParts, notFoundUnder } from './router.ts';
import { createSimulatorStore } from './store.ts';
import type { CustomerMediaInput, SimulatedInbound, SimulatorOptions, WhatsAppSimulator } from './types.ts';

/**
 * The built-in WhatsApp simulator, composed of its parts: the Graph API stand-in (graph-api.ts and
 * its endpoints) that records what the product sends, and the customer's side: signed Meta-shaped
 * webhook deliveries (inbound-payloads.ts), text or media (whose bytes the Graph stand-in then
 * serves, graph-media.ts), the chat page (chat-page.ts) and its API (chat-api.ts). All parts share
 * one store of what happened (store.ts) and one clock (`now`, for the media URLs' expiry).
 */

const CHAT_PREFIX = '/simulator';

function normalizePrefix(prefix: string): string {
  const trimmed = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  if (trimmed === '/' || trimmed === CHAT_PREFIX) throw new Error('graphPathPrefix must be a distinct path');
  return trimmed;
}

export function createWhatsAppSimulator(options: SimulatorOptions): WhatsAppSimulator {
  const graphPathPrefix = normalizePrefix(options.graphPathPrefix ?? '/graph');
  const apiToken = createSimulatorToken();
  const store = createSimulatorStore();
  const faults = createGraphFaults();
  const templates = createSimulatorTemplates();

  const now = options.now ?? Date.now;

  /** Records the message (before delivery: the reply may come first), then POSTs it signed. */
  async function deliver(payload: Record<string, unknown>, record: SimulatedInbound): Promise<number> {
    const webhookUrl = simulator.webhookUrl;
    if (!webhookUrl) throw new Error('the simulator has no webhookUrl to deliver to');
    const delivery = signDelivery(payload, options.appSecret);
    store.recordInbound(record);
    try {
      record.webhookStatus = await deliverToWebhook(webhookUrl, delivery);
      return record.webhookStatus;
    } catch (error) {
      record.webhookStatus = 0;
      throw error;
    }
  }

  function inboundRecord(input: CustomerMessageInput, messageId: string, text: string): SimulatedInbound {
    return {
      id: messageId,
      phoneNumberId: input.phoneNumberId,
      text,
      at: new Date(now()).toISOString(),
      ...(input.from ? { from: input.from } : {}),
      ...(input.userId ? { userId: input.userId } : {}),
      ...(input.name ? { name: input.name } : {}),
    };
  }

  async function sendAsCustomer(input: InboundMessageInput): Promise<{ status: number; messageId: string }> {
    const messageId = input.messageId ?? simulatedMessageId();
    const payload = buildInboundPayload({ ...input, messageId });
    const status = await deliver(payload, inboundRecord(input, messageId, input.text));
    return { status, messageId };
  }

  async function sendMediaAsCustomer(
    input: CustomerMediaInput,
  ): Promise<{ status: number; messageId: string; mediaId: string }> {
    if (!simulator.webhookUrl) throw new Error('the simulator has no webhookUrl to deliver to');
    const { data, host, ...fields } = input;
    const messageId = input.messageId ?? simulatedMessageId();
    const mediaId = addMedia(store, { mimeType: input.mimeType, data });
    const payload = buildInboundMediaPayload({
      ...fields,
      messageId,
      mediaId,
      sha256: mediaSha256Base64(data),
      // Meta adds the short-lived URL; we can name it only when we know under which Host we answer.
      ...(host ? { url: issueMediaUrl(store, { mediaId, host, graphPathPrefix, now: now() }) } : {}),
    });
    const record = inboundRecord(input, messageId, input.kind === 'audio' ? '' : (input.caption ?? ''));
    record.media = {
      kind: input.kind,
      id: mediaId,
      mimeType: input.mimeType,
      size: data.length,
      ...(input.kind === 'audio' ? { voice: input.voice === true } : {}),
      ...(input.kind === 'document' && input.filename !== undefined ? { filename: input.filename } : {}),
    };
    const status = await deliver(payload, record);
    return { status, messageId, mediaId };
  }

  const handle = composeParts([
    createGraphApi({
      prefix: graphPathPrefix,
      store,
      faults,
      endpoints: [
        createMediaDownloadEndpoint(store, now),
        createMessagesEndpoint(store, templates),
        createTemplatesEndpoint(templates, graphPathPrefix),
        createGraphReadEndpoints({ ...options, store, faults }),
        createMediaLookupEndpoint(store, graphPathPrefix, now),
      ],
    }),
    createChatPage({ token: apiToken }),
    createChatApi({
      token: apiToken,
      store,
      ...(options.listBusinesses ? { listBusinesses: options.listBusinesses } : {}),
      hasWebhook: () => simulator.webhookUrl !== undefined && simulator.webhookUrl !== '',
      sendAsCustomer,
      sendMediaAsCustomer,
    }),
    notFoundUnder(CHAT_PREFIX),
  ]);

  const simulator: WhatsAppSimulator = {
    handle,
    graphPathPrefix,
    apiToken,
    webhookUrl: options.webhookUrl,
    sent: store.sent,
    reads: store.reads,
    inbound: store.inbound,
    graphCalls: store.graphCalls,
    failNext: (count, fault) => faults.add(count, fault),
    reset() {
      store.reset();
      faults.clear();
      templates.reset();
    },
    waitForSent: (predicate, timeoutMs) => store.waitForSent(predicate, timeoutMs),
    setTemplates: (wabaId, list) => templates.set(wabaId, list),
    addMedia: (media) => addMedia(store, media),
    buildInboundPayload,
    sendAsCustomer,
    sendMediaAsCustomer,
    conversation: (phoneNumberId, contact) => store.conversation(phoneNumberId, contact),
  };
  return simulator;
}
