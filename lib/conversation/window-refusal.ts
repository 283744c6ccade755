import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';
import { type AnswerDeps, type Attempt, clockOf } from './answer-attempt.ts';
import { activeHandoff } from './handoff.ts';
import type { StatusEvent } from './inbound-event.ts';
import { LostClaimError, SendFailure } from './ports.ts';
import { claimsUnder } from './reply-burst.ts';
import { accessTokenOf } from './reply-to-contact.ts';
import { boundByWindow, sendTemplateInstead } from './service-window.ts';

/**
 * Meta usually accepts a free-form send and refuses it afterwards, in a `failed` status with 131047
 * (more than 24 hours since the customer wrote). The reply the customer did not get then goes out
 * as the tenant's `window_template`, once per reply (a claim on `TEMPLATE:<the customer's message>`,
 * so the statuses of several refused parts, or a redelivered status, send one template), or, without
 * a usable template, is recorded as not sent with why. Nothing is sent when the chat is handed off
 * or when the customer wrote again since: their new message opens a window and gets its own answer.
 */
export async function sendTemplateAfterRefusal(event: StatusEvent, deps: AnswerDeps): Promise<void> {
  const { tenant_id: tenantId } = event;
  const refused = await deps.conversations.outboundMessage(tenantId, event.status.message_id);
  // Only a reply of ours to a customer's message, in free text (a refused template stays refused).
  if (!refused?.in_reply_to || refused.type !== 'text' || !refused.text) return;
  const client = await deps.clients.get(tenantId);
  if (!client?.active || !boundByWindow(client) || client.phone_number_id !== event.phone_number_id) return;
  const contact = await deps.conversations.getContact(tenantId, refused.contact_key);
  if (!contact) return;
  const now = clockOf(deps);
  const refusedAt = new Date(event.status.timestamp * 1000).toISOString();
  const wroteSince = (contact.last_customer_message_at ?? contact.last_inbound_at ?? '') > refusedAt;
  if (wroteSince || activeHandoff(contact, now())) return;

  const claimId = `TEMPLATE:${refused.in_reply_to}`;
  const claims = claimsUnder(deps.claims, claimId);
  const owner = randomUUID();
  const claim = await claims.claim(tenantId, claimId, owner, now().getTime());
  if (claim.outcome === 'done') return;
  if (claim.outcome === 'busy') throw new TransientError('the template after a refusal is being sent');
  const attempt: Attempt = {
    // The customer's message the reply answered: the template is recorded as answering it too.
    event: {
      v: 1,
      kind: 'message',
      tenant_id: tenantId,
      phone_number_id: client.phone_number_id,
      contact: {
        key: contact.contact_key,
        ...(contact.wa_id ? { wa_id: contact.wa_id } : {}),
        ...(contact.user_id ? { user_id: contact.user_id } : {}),
      },
      message: { id: refused.in_reply_to, type: 'text', timestamp: event.status.timestamp },
      received_at: event.received_at,
    },
    deps: { ...deps, claims },
    owner,
    now,
    finish: async (outcome) => {
      await claims.complete(tenantId, claimId, owner, outcome);
      return outcome;
    },
  };
  try {
    const token = await accessTokenOf(client, deps);
    if (!token.value) return void (await attempt.finish('no_access_token'));
    const retentionHours = client.retention_hours ?? deps.retentionHours;
    await sendTemplateInstead(attempt, { client, contact }, [refused.text], 0, token.value, retentionHours);
    await attempt.finish('replied');
  } catch (error) {
    if (error instanceof LostClaimError) return;
    if (error instanceof SendFailure && !error.retryable) {
      // No template, or Meta refused it too (recorded as not sent by then): never a second one.
      logger.warn('template after a 131047 not sent', { tenantId, kind: error.kind });
      await attempt.finish(error.kind === 'window_closed' ? 'window_closed' : 'send_failed');
      return;
    }
    await claims.release(tenantId, claimId, owner);
    throw error;
  }
}
