import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.ts';
import { DEFAULT_HANDOFF_MINUTES } from '../tenants/client.ts';
import {
  type AnswerDeps,
  type AnswerOutcome,
  type Attempt,
  type Claimed,
  clockOf,
  report,
} from './answer-attempt.ts';
import { botAnswers } from './handoff.ts';
import type { InboundMessageEvent, OwnerMessageEvent, QueueEvent, StatusEvent } from './inbound-event.ts';
import { type MediaRecord, understandMedia } from './media-understanding.ts';
import { billedMessage } from './message-billing.ts';
import { type Contact, LostClaimError } from './ports.ts';
import { collectIntoBurst, joinsBurst } from './reply-burst.ts';
import { replyToContact } from './reply-to-contact.ts';
import { sendTemplateAfterRefusal } from './window-refusal.ts';

export type { AnswerDeps, AnswerOutcome } from './answer-attempt.ts';

/** Handles one event of the inbound queue. Throws only when the event should be retried. */
export async function handleQueueEvent(event: QueueEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  if (event.kind === 'status') return recordStatus(event, deps);
  if (event.kind === 'owner_message') return recordOwnerMessage(event, deps);
  return answerMessage(event, deps);
}

/** A person of the business wrote to the customer themselves: the bot steps back in that chat. */
async function recordOwnerMessage(event: OwnerMessageEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const client = await deps.clients.get(event.tenant_id);
  if (!client?.active || client.phone_number_id !== event.phone_number_id) return 'tenant_inactive';
  // The echo of a message we sent (coexistence numbers may echo API sends too) is not a person's.
  if (await deps.conversations.sentByUs(client.id, event.message.id)) return 'own_echo';
  const now = clockOf(deps)();
  const minutes = client.handoff_minutes ?? DEFAULT_HANDOFF_MINUTES;
  const retentionHours = client.retention_hours ?? deps.retentionHours;
  const contact = await deps.conversations.resolveContact(client.id, event.contact, now, retentionHours);
  await deps.conversations.handOff(
    client.id,
    contact,
    { until: new Date(now.getTime() + minutes * 60_000), by: 'person' },
    now,
    retentionHours,
  );
  return 'handoff_recorded';
}

async function recordStatus(event: StatusEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const { tenant_id: tenantId, status } = event;
  const contactKey =
    (await deps.conversations.applyStatus(
      tenantId,
      status.message_id,
      status.status,
      status.error_codes,
      status.pricing,
    )) ?? event.contact_key;
  const windowClosed =
    status.status === 'failed' &&
    status.error_codes.some((code) => deps.sender.deliveryFailureKind(code) === 'window_closed');
  if (windowClosed && contactKey) {
    // When Meta refused it (its own time), not when we read the status: a customer message written
    // after the refusal opens a new window, however late we handle the status.
    await deps.conversations.updateContact(tenantId, contactKey, {
      window_closed_at: new Date(status.timestamp * 1000).toISOString(),
    });
    await sendTemplateAfterRefusal(event, deps);
  }
  const billed = billedMessage(event);
  if (billed) await report(deps, billed);
  await report(deps, { type: 'status_recorded', tenantId });
  return 'status_recorded';
}

/**
 * Answers one customer message exactly once: claim → tenant and contact → commands, welcome,
 * responder → send (resumable) → record. See message-claims.ts for the exactly-once argument.
 */
export async function answerMessage(event: InboundMessageEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const now = clockOf(deps);
  const { tenant_id: tenantId } = event;
  const messageId = event.message.id;
  const owner = randomUUID();
  const claim = await deps.claims.claim(tenantId, messageId, owner, now().getTime());
  if (claim.outcome === 'done') {
    await report(deps, { type: 'duplicate_suppressed', tenantId });
    return 'duplicate';
  }
  if (claim.outcome === 'busy') throw new TransientError('message is being answered by another worker');

  const attempt: Attempt = {
    event,
    deps,
    owner,
    now,
    async finish(outcome) {
      // Overtaken at the very end: the worker that took the message over finishes and counts it.
      if (!(await deps.claims.complete(tenantId, messageId, owner, outcome))) return 'lost_claim';
      // Only the worker whose completion won counts it, after that: a crash in between loses one
      // count, never doubles one. A rerouted message is counted by the real owner's attempt.
      if (outcome !== 'rerouted') {
        await report(deps, {
          type: 'message_handled',
          tenantId,
          receivedAt: new Date(event.received_at),
          // A reply a person's handoff stopped was composed but never reached the customer.
          ...(attempt.answered && outcome !== 'handed_off' ? { answered: attempt.answered } : {}),
        });
      }
      return outcome;
    },
  };
  try {
    return await answerClaimed(attempt, claim);
  } catch (error) {
    if (error instanceof LostClaimError) return 'lost_claim';
    await deps.claims.release(tenantId, messageId, owner);
    throw error;
  }
}

async function answerClaimed(attempt: Attempt, claim: Claimed): Promise<AnswerOutcome> {
  const { event, deps } = attempt;
  const client = await deps.clients.get(event.tenant_id);
  if (!client?.active || client.phone_number_id !== event.phone_number_id) return rerouteOrDrop(attempt);

  const retentionHours = client.retention_hours ?? deps.retentionHours;
  // One contact per customer, whichever of its ids (wa_id, user_id) this message carries.
  const ref = await deps.conversations.resolveContact(
    client.id,
    event.contact,
    attempt.now(),
    retentionHours,
  );
  if (ref !== event.contact) attempt.event = { ...event, contact: ref };
  // A resumed plan's message is stored already, with what its media gave (a transcript): kept.
  const contact = await recordInbound(attempt, retentionHours, { store: !claim.plan });
  return replyToContact(attempt, claim, client, contact, async (accessToken) => {
    // Media is taken in only for an answer planned now (not a resumed plan, not a chat the bot
    // leaves alone), before the burst: a voice note's transcript waits with the rest as text.
    if (!claim.plan && botAnswers(client, contact, attempt.now())) {
      await understandMedia(attempt, client, accessToken);
      if (attempt.mediaRecord) await storeInbound(attempt, retentionHours, attempt.mediaRecord);
    }
    return joinsBurst(attempt, claim, client, contact)
      ? collectIntoBurst(attempt, client, accessToken)
      : undefined;
  });
}

/** The client does not (or no longer) serve this number: the webhook's route cache may be stale. */
async function rerouteOrDrop(attempt: Attempt): Promise<AnswerOutcome> {
  const { event, deps } = attempt;
  const route = await deps.clients.findRoute(event.phone_number_id, { consistent: true });
  if (route?.active && route.client_id !== event.tenant_id) {
    // The real owner answers first: should it fail and the message be delivered again, this claim
    // is still open (released by the caller), so the redelivery is rerouted again, not dropped as
    // a duplicate.
    const outcome = await answerMessage({ ...event, tenant_id: route.client_id }, deps);
    await attempt.finish('rerouted');
    return outcome;
  }
  return attempt.finish('tenant_inactive');
}

/** Records the customer's activity and stores their message (for the operator), answered or not. */
async function recordInbound(
  attempt: Attempt,
  retentionHours: number,
  { store }: { store: boolean },
): Promise<Contact> {
  const { event, deps, now } = attempt;
  const wroteAt = new Date(event.message.timestamp * 1000);
  const contact = await deps.conversations.touchInbound(
    event.tenant_id,
    event.contact,
    now(),
    retentionHours,
    wroteAt,
  );
  if (store) await storeInbound(attempt, retentionHours);
  return contact;
}

/**
 * The customer's message as stored; stored again with `media` once its media was taken in (a
 * transcript is then its text): the same key, so the first version is overwritten.
 */
async function storeInbound({ event, deps }: Attempt, retentionHours: number, media?: MediaRecord) {
  await deps.conversations.putMessage(
    event.tenant_id,
    event.contact.key,
    {
      id: event.message.id,
      direction: 'inbound',
      type: event.message.type,
      ...(event.message.text !== undefined ? { text: event.message.text } : {}),
      // Ordered by when we received it (ms): Meta's own timestamp has only second precision.
      at: event.received_at,
      sent_at: new Date(event.message.timestamp * 1000).toISOString(),
      ...media,
    },
    retentionHours,
  );
}
