import { randomUUID } from 'node:crypto';
import type {
  MarkReadRequest,
  SendTemplateRequest,
  SendTextRequest,
  WhatsAppSender,
} from '../conversation/ports.ts';
import { SendFailure } from '../conversation/ports.ts';
import { DEFAULT_COMMAND_TTL_MS, type QrCommandQueue } from './commands.ts';
import { shardOf, tenantOfQrPhoneNumberId } from './shards.ts';

/**
 * The WhatsApp sender of QR tenants: a reply becomes a `send` command on the command queue of the
 * tenant's shard, which the runner holding that shard sends through the linked account while it is
 * connected. The command id is the outbound message's id; the runner reports the outcome as a
 * `status` event for it (`sent` or `failed`), as Meta reports a wamid's.
 */
export class QrCommandSender implements WhatsAppSender {
  constructor(
    private readonly commands: QrCommandQueue,
    private readonly shardCount: number,
    private readonly options: { ttlMs?: number; now?: () => Date; newId?: () => string } = {},
  ) {}

  async sendText(request: SendTextRequest): Promise<{ messageId: string }> {
    const tenantId = tenantOfQrPhoneNumberId(request.phoneNumberId);
    if (!tenantId) throw new TypeError('not a QR phone number id');
    const to = request.to.wa_id;
    if (!to) {
      // A QR session knows customers by number only: a reply to a business-scoped id cannot go out.
      throw new SendFailure('a QR session can only write to a phone number', {
        kind: 'permanent',
        detail: 'recipient without a phone number',
      });
    }
    const now = this.options.now?.() ?? new Date();
    const id = `qr.${this.options.newId?.() ?? randomUUID()}`;
    try {
      await this.commands.send(shardOf(tenantId, this.shardCount), {
        v: 1,
        id,
        kind: 'send',
        tenant_id: tenantId,
        to,
        text: request.text,
        ...(request.replyTo ? { reply_to: request.replyTo } : {}),
        expires_at: new Date(now.getTime() + (this.options.ttlMs ?? DEFAULT_COMMAND_TTL_MS)).toISOString(),
      });
    } catch (error) {
      // SQS answered with an error: nothing was queued, a later attempt may work. No answer at all
      // (a timeout, a lost connection): it may be queued, so it must not be queued again.
      const answered = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      throw new SendFailure('the QR command queue refused the reply', {
        kind: answered ? 'unavailable' : 'ambiguous',
        detail: answered ? `SQS error ${answered}` : 'SQS did not answer',
        cause: error,
      });
    }
    return { messageId: id };
  }

  /**
   * A linked account is not subject to Meta's 24-hour customer service window, and templates are a
   * Cloud API thing: the use case never asks a QR tenant for one (service-window.ts), so this refuses.
   */
  async sendTemplate(_request: SendTemplateRequest): Promise<{ messageId: string }> {
    throw new SendFailure('a QR session sends no templates', {
      kind: 'permanent',
      detail: 'templates are not sent through a QR session',
    });
  }

  /** A QR session marks messages read when it answers them: nothing to ask. */
  async markRead(_request: MarkReadRequest): Promise<void> {}

  /** Runner-reported failures carry no platform codes. */
  deliveryFailureKind(): undefined {
    return undefined;
  }
}

/** Sends through the QR runner for `qr:` phone number ids and through the Cloud API for the rest. */
export function routeByChannel(cloudApi: WhatsAppSender, qr: WhatsAppSender): WhatsAppSender {
  const pick = (phoneNumberId: string) => (tenantOfQrPhoneNumberId(phoneNumberId) ? qr : cloudApi);
  return {
    sendText: (request) => pick(request.phoneNumberId).sendText(request),
    sendTemplate: (request) => pick(request.phoneNumberId).sendTemplate(request),
    markRead: (request) => pick(request.phoneNumberId).markRead(request),
    deliveryFailureKind: (code) => cloudApi.deliveryFailureKind(code),
  };
}
