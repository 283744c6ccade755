import { createSimulatorToken } from '../simulator-token.ts';
import { createChatApi } from './chat-api.ts';
import { createChatPage } from './chat-page.ts';
import { createGraphApi, createGraphFaults } from './graph-api.ts';
import { addMedia, createMediaDownloadEndpoint, createMediaLookupEndpoint } from './graph-media.ts';
import { createMessagesEndpoint } from './graph-messages.ts';
import { createGraphReadEndpoints } from './graph-read-endpoints.ts';
import { createSimulatorTemplates, createTemplatesEndpoint } from './graph-templates.ts';
import {
  buildInboundPayload,
  deliverToWebhook,
  type InboundMessageInput,
  signDelivery,
  simulatedMessageId,
} from './inbound-payloads.ts';
import { composeParts, notFoundUnder } from './router.ts';
import { createSimulatorStore } from './store.ts';
import type { SimulatedInbound, SimulatorOptions, WhatsAppSimulator } from './types.ts';

/**
 * The built-in WhatsApp simulator, composed of its parts: the Graph API stand-in (graph-api.ts and
 * its endpoints) that records what the product sends, and the customer's side: signed Meta-shaped
 * webhook deliveries (inbound-payloads.ts), the chat page (chat-page.ts) and its API (chat-api.ts).
 * All parts share one store of what happened (store.ts).
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

  async function sendAsCustomer(input: InboundMessageInput): Promise<{ status: number; messageId: string }> {
    const webhookUrl = simulator.webhookUrl;
    if (!webhookUrl) throw new Error('the simulator has no webhookUrl to deliver to');
    const messageId = input.messageId ?? simulatedMessageId();
    const delivery = signDelivery(buildInboundPayload({ ...input, messageId }), options.appSecret);
    const record: SimulatedInbound = {
      id: messageId,
      phoneNumberId: input.phoneNumberId,
      text: input.text,
      at: new Date().toISOString(),
      ...(input.from ? { from: input.from } : {}),
      ...(input.userId ? { userId: input.userId } : {}),
      ...(input.name ? { name: input.name } : {}),
    };
    store.recordInbound(record);
    try {
      record.webhookStatus = await deliverToWebhook(webhookUrl, delivery);
      return { status: record.webhookStatus, messageId };
    } catch (error) {
      record.webhookStatus = 0;
      throw error;
    }
  }

  const handle = composeParts([
    createGraphApi({
      prefix: graphPathPrefix,
      store,
      faults,
      endpoints: [
        createMediaDownloadEndpoint(store),
        createMessagesEndpoint(store, templates),
        createTemplatesEndpoint(templates, graphPathPrefix),
        createGraphReadEndpoints({ ...options, store, faults }),
        createMediaLookupEndpoint(store, graphPathPrefix),
      ],
    }),
    createChatPage({ token: apiToken }),
    createChatApi({
      token: apiToken,
      store,
      ...(options.listBusinesses ? { listBusinesses: options.listBusinesses } : {}),
      hasWebhook: () => simulator.webhookUrl !== undefined && simulator.webhookUrl !== '',
      sendAsCustomer,
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
    conversation: (phoneNumberId, contact) => store.conversation(phoneNumberId, contact),
  };
  return simulator;
}
