import { type ContactRef, messageGroupId, type QueueEvent } from '../conversation/inbound-event.ts';
import { UnauthorizedError, ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { FifoMessage } from '../queue/sqs-publisher.ts';
import {
  changeValueSchema,
  type InboundMessage,
  inboundMessageSchema,
  statusSchema,
  type WebhookContact,
  webhookBodySchema,
} from './payload-schema.ts';
import { verifyWebhookSignature } from './signature.ts';
import type { TenantRouter } from './tenant-router.ts';

export interface ReceiveWebhookDeps {
  appSecret: string;
  router: TenantRouter;
  /** Enqueues every message; throws when any could not be accepted. */
  enqueue(messages: FifoMessage[]): Promise<void>;
  now?: () => Date;
}

/** What one delivery contained and what became of it (counts only, never content). */
export interface WebhookReport {
  messages: number;
  statuses: number;
  enqueued: number;
  unknownNumbers: number;
  inactiveTenants: number;
  ignoredChanges: number;
  invalidItems: number;
}

/** The text a person can read in a message, whatever its type. */
export function readableText(message: InboundMessage): string | undefined {
  switch (message.type) {
    case 'text':
      return message.text?.body;
    case 'image':
      return message.image?.caption;
    case 'video':
      return message.video?.caption;
    case 'document':
      return message.document?.caption;
    case 'interactive':
      return message.interactive?.button_reply?.title ?? message.interactive?.list_reply?.title;
    case 'button':
      return message.button?.text;
    case 'location':
      return [message.location?.name, message.location?.address].filter(Boolean).join(', ') || undefined;
    case 'order':
      return message.order?.text;
    default:
      return undefined;
  }
}

function contactFor(message: InboundMessage, contacts: WebhookContact[]): ContactRef | undefined {
  const userId = message.from_user_id;
  const waId = message.from;
  const profile = contacts.find((c) => (userId && c.user_id === userId) || (waId && c.wa_id === waId));
  const key = userId ?? profile?.user_id ?? waId;
  if (!key) return undefined;
  const name = profile?.profile?.name ?? profile?.profile?.username;
  return {
    key,
    ...(waId ? { wa_id: waId } : profile?.wa_id ? { wa_id: profile.wa_id } : {}),
    ...(userId ? { user_id: userId } : profile?.user_id ? { user_id: profile.user_id } : {}),
    ...(name ? { name } : {}),
  };
}

/**
 * The webhook's whole job: verify the signature on the raw bytes, validate, route every message and
 * status of every entry and change to its tenant, and enqueue them. Nothing slow happens here.
 * Throws UnauthorizedError (401), ValidationError (400) or TransientError (5xx: Meta retries).
 */
export async function receiveWebhook(
  request: { rawBody: Buffer; signature: string | undefined },
  deps: ReceiveWebhookDeps,
): Promise<WebhookReport> {
  if (!verifyWebhookSignature(request.rawBody, request.signature, deps.appSecret)) {
    throw new UnauthorizedError('invalid or missing X-Hub-Signature-256');
  }
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
  const body = webhookBodySchema.safeParse(json);
  if (!body.success) {
    throw new ValidationError(
      'body is not a WhatsApp webhook',
      body.error.issues.slice(0, 5).map((i) => ({
        path: i.path.join('.'),
        message: i.message,
      })),
    );
  }
  const report: WebhookReport = {
    messages: 0,
    statuses: 0,
    enqueued: 0,
    unknownNumbers: 0,
    inactiveTenants: 0,
    ignoredChanges: 0,
    invalidItems: 0,
  };
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const outgoing: FifoMessage[] = [];
  if (body.data.object !== 'whatsapp_business_account') {
    report.ignoredChanges = body.data.entry.length;
    return report;
  }

  for (const entry of body.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') {
        report.ignoredChanges++;
        continue;
      }
      const value = changeValueSchema.safeParse(change.value);
      if (!value.success) {
        report.invalidItems++;
        continue;
      }
      const { metadata, contacts = [], messages = [], statuses = [], errors = [] } = value.data;
      if (errors.length > 0) {
        logger.warn('webhook carried account errors', {
          phoneNumberId: metadata.phone_number_id,
          codes: errors.map((e) => e.code),
        });
      }
      report.messages += messages.length;
      report.statuses += statuses.length;
      if (messages.length === 0 && statuses.length === 0) continue;

      const route = await deps.router.resolve(metadata.phone_number_id);
      if (!route) {
        report.unknownNumbers++;
        logger.info('webhook for an unknown number', { phoneNumberId: metadata.phone_number_id });
        continue;
      }
      if (!route.active) {
        report.inactiveTenants++;
        logger.info('webhook for an inactive tenant', { tenantId: route.client_id });
        continue;
      }
      const tenantId = route.client_id;

      for (const raw of messages) {
        const parsed = inboundMessageSchema.safeParse(raw);
        const contact = parsed.success ? contactFor(parsed.data, contacts) : undefined;
        if (!parsed.success || !contact) {
          report.invalidItems++;
          continue;
        }
        const message = parsed.data;
        const text = readableText(message);
        const event: QueueEvent = {
          v: 1,
          kind: 'message',
          tenant_id: tenantId,
          phone_number_id: metadata.phone_number_id,
          contact,
          message: {
            id: message.id,
            type: message.type,
            timestamp: Number(message.timestamp),
            ...(text !== undefined ? { text } : {}),
            ...(message.context?.id ? { context_id: message.context.id } : {}),
          },
          received_at: receivedAt,
        };
        outgoing.push({
          body: JSON.stringify(event),
          groupId: messageGroupId(tenantId, contact.key),
          deduplicationId: `msg:${message.id}`,
        });
      }

      for (const raw of statuses) {
        const parsed = statusSchema.safeParse(raw);
        if (!parsed.success) {
          report.invalidItems++;
          continue;
        }
        const status = parsed.data;
        const contactKey = status.recipient_user_id ?? status.recipient_id;
        const event: QueueEvent = {
          v: 1,
          kind: 'status',
          tenant_id: tenantId,
          phone_number_id: metadata.phone_number_id,
          ...(contactKey ? { contact_key: contactKey } : {}),
          status: {
            message_id: status.id,
            status: status.status,
            timestamp: Number(status.timestamp),
            error_codes: (status.errors ?? []).map((e) => e.code),
          },
          received_at: receivedAt,
        };
        outgoing.push({
          body: JSON.stringify(event),
          groupId: messageGroupId(tenantId, contactKey ?? 'statuses'),
          deduplicationId: `status:${status.id}:${status.status}`,
        });
      }
    }
  }

  if (outgoing.length > 0) await deps.enqueue(outgoing);
  report.enqueued = outgoing.length;
  return report;
}
