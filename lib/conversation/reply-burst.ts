import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.ts';
import { type Client, DEFAULT_REPLY_DELAY_SECONDS } from '../tenants/client.ts';
import {
  type AnswerDeps,
  type AnswerOutcome,
  type Attempt,
  type Claimed,
  clockOf,
  report,
} from './answer-attempt.ts';
import type { BurstWakeup, PendingMessage, ReplyBurst, ReplyBursts } from './burst-ports.ts';
import { parseBotCommand } from './canned-replies.ts';
import { botAnswers } from './handoff.ts';
import type { InboundMessageEvent } from './inbound-event.ts';
import type { Understanding } from './media-understanding.ts';
import { ACKNOWLEDGED_TYPES, markReadWhileTyping, SILENT_TYPES } from './plan-replies.ts';
import { type ClaimStore, type Contact, LostClaimError } from './ports.ts';
import { replyToContact } from './reply-to-contact.ts';

/**
 * The durable debounce: a customer who writes "hola" / "una pregunta" / "¿abrís el domingo?" within
 * a few seconds gets one answer to all three. No timer lives in memory: each message, once claimed
 * and recorded, joins its contact's burst record (DynamoDB, a conditional write on its sequence) and
 * schedules a wake-up on a standard SQS queue delayed by the tenant's `reply_delay_seconds`. A
 * wake-up whose sequence is no longer the burst's is stale (a later message scheduled its own) and
 * is dropped; the current one answers the whole burst under one claim, like a single message:
 * stored plan, parts marked as sent, takeover after a crash. A busy customer cannot hold the answer
 * back for more than {@link REPLY_BURST_CAP_SECONDS} after the burst's first message.
 */

/** The longest a burst waits after its first message, however often the customer keeps writing. */
export const REPLY_BURST_CAP_SECONDS = 20;

export type BurstOutcome = AnswerOutcome | 'stale' | 'nothing_pending';

const delayOf = (client: Client) => client.reply_delay_seconds ?? DEFAULT_REPLY_DELAY_SECONDS;

/**
 * Whether this message waits in a burst. Only what the assistant would answer with the responder:
 * bot commands are answered at once (a later wake-up sees the bot paused and stays silent),
 * reactions and system messages are recorded and never answered, a chat the bot does not serve
 * (paused, handed off, bot off) gets no typing indicator; a message an earlier attempt was
 * already answering on its own (a stored plan) resumes that answer; media the model looks at and
 * media that gets a fixed reply are answered at once.
 */
export function joinsBurst(attempt: Attempt, claim: Claimed, client: Client, contact: Contact): boolean {
  const { event, deps, now } = attempt;
  if (!deps.bursts || delayOf(client) <= 0 || claim.plan) return false;
  if (SILENT_TYPES.has(event.message.type) || parseBotCommand(event.message.text?.trim())) return false;
  // A picture for the model, a reply about an audio too long or a file not opened, a location:
  // answered on their own. A voice note's transcript is its text by now and waits with the rest, as
  // do pictures nobody looks at (the burst then says "text only" once, not once per photo).
  const { understanding } = attempt;
  if (understanding?.kind === 'read' && understanding.attachments.length > 0) return false;
  if (understanding?.kind === 'decline' && understanding.reply !== 'textOnly') return false;
  if (ACKNOWLEDGED_TYPES.has(event.message.type)) return false;
  return botAnswers(client, contact, now());
}

/**
 * Seconds until a burst's wake-up: the tenant's delay, but never past the cap counted from the
 * first message. Rounded up (SQS takes whole seconds), so a wake-up due at the cap arrives at or
 * after it, when it answers even if stale.
 */
export function wakeupDelaySeconds(delaySeconds: number, firstAt: number, now: number): number {
  const untilCap = Math.ceil((firstAt + REPLY_BURST_CAP_SECONDS * 1000 - now) / 1000);
  return Math.max(0, Math.min(delaySeconds, untilCap));
}

/** Puts a claimed and recorded message into its contact's burst and schedules the wake-up. */
export async function collectIntoBurst(
  attempt: Attempt,
  client: Client,
  accessToken: string,
): Promise<AnswerOutcome> {
  const { event, deps, owner, now } = attempt;
  const bursts = deps.bursts!;
  const at = now().getTime();
  const position = await bursts.store.collect(
    {
      tenantId: event.tenant_id,
      contact: event.contact,
      phoneNumberId: event.phone_number_id,
      ...(event.channel ? { channel: event.channel } : {}),
      message: {
        id: event.message.id,
        type: event.message.type,
        ...(event.message.text !== undefined ? { text: event.message.text } : {}),
        timestamp: event.message.timestamp,
        received_at: event.received_at,
        at,
        ...(attempt.understanding?.kind === 'decline' ? { unread: true } : {}),
        ...(attempt.understanding?.kind === 'read' && attempt.understanding.unsure
          ? { uncertain: true }
          : {}),
      },
      claimOwner: owner,
      retentionHours: client.retention_hours ?? deps.retentionHours,
    },
    at,
  );
  // Also on a redelivery of a message already collected: its first worker may have died before
  // the wake-up was sent. A second wake-up for the same sequence is harmless (one claim answers).
  await bursts.wakeups.schedule(
    { v: 1, tenant_id: event.tenant_id, contact_key: event.contact.key, seq: position.seq },
    wakeupDelaySeconds(delayOf(client), position.firstAt, at),
  );
  await report(deps, { type: 'message_collected', tenantId: event.tenant_id });
  if (attempt.mediaProcessed) await report(deps, attempt.mediaProcessed);
  await markReadWhileTyping(event, deps, accessToken);
  return attempt.finish('collected');
}

/** The wake-up consumer's use case: answers the burst if the wake-up is still its latest. */
export async function answerBurst(wakeup: BurstWakeup, deps: AnswerDeps): Promise<BurstOutcome> {
  const bursts = deps.bursts;
  if (!bursts) throw new Error('answering a reply burst needs the bursts dependency');
  const now = clockOf(deps);
  const { tenant_id: tenantId } = wakeup;
  const burst = await takeBurst(wakeup, bursts, now().getTime());
  if (typeof burst === 'string') {
    await report(deps, { type: 'wakeup_dropped', tenantId });
    return burst;
  }
  const { id: burstId, upto } = burst.answering!;
  const messages = burst.pending.filter((m) => m.seq <= upto);
  const owner = randomUUID();
  const claims = claimsUnder(deps.claims, burstId);
  const claim = await claims.claim(tenantId, burstId, owner, now().getTime());
  // Another wake-up of this burst holds it. Not dropped: should that worker have died (its lease
  // outlives the queue's visibility once a part went out late), this wake-up, retried once the
  // lease has run out, is what takes the burst over and sends the rest.
  if (claim.outcome === 'busy') throw new TransientError('the burst is being answered by another worker');
  if (claim.outcome === 'done') {
    // Answered, but the worker died before clearing the burst: finish that part only.
    await settleBurst(wakeup, burstId, messages, deps);
    await report(deps, { type: 'duplicate_suppressed', tenantId });
    return 'duplicate';
  }
  const attempt: Attempt = {
    event: burstEvent(tenantId, burst, messages),
    understanding: burstUnderstanding(messages),
    deps: { ...deps, claims },
    owner,
    now,
    async finish(outcome) {
      if (!(await claims.complete(tenantId, burstId, owner, outcome))) return 'lost_claim';
      await report(deps, {
        type: 'burst_handled',
        tenantId,
        receivedAt: new Date(messages[0]!.received_at),
        replied: outcome === 'replied',
        ...(attempt.answered ? { answered: attempt.answered } : {}),
      });
      await settleBurst(wakeup, burstId, messages, deps);
      return outcome;
    },
  };
  try {
    return await answerTakenBurst(attempt, claim, bursts);
  } catch (error) {
    if (error instanceof LostClaimError) return 'lost_claim';
    await claims.release(tenantId, burstId, owner);
    throw error;
  }
}

/**
 * The burst this wake-up answers, marked as being answered up to its current sequence; or why the
 * wake-up is dropped. A burst already being answered is resumed whatever the wake-up's sequence: it
 * is the redelivery of a wake-up whose worker died.
 */
async function takeBurst(
  wakeup: BurstWakeup,
  bursts: ReplyBursts,
  now: number,
): Promise<ReplyBurst | 'stale' | 'nothing_pending'> {
  const { tenant_id: tenantId, contact_key: contactKey } = wakeup;
  for (let round = 1; round <= 4; round++) {
    const burst = await bursts.store.get(tenantId, contactKey);
    if (burst?.answering) return burst;
    if (!burst || burst.pending.length === 0) return 'nothing_pending';
    const capReached = burst.first_at !== undefined && now >= burst.first_at + REPLY_BURST_CAP_SECONDS * 1000;
    if (wakeup.seq !== burst.seq && !capReached) return 'stale';
    const burstId = `BURST:${burst.pending[0]!.id}`;
    if (await bursts.store.startAnswering(tenantId, contactKey, burst.seq, burstId)) {
      return { ...burst, answering: { id: burstId, upto: burst.seq } };
    }
  }
  throw new TransientError('the reply burst kept changing while a wake-up took it');
}

async function answerTakenBurst(attempt: Attempt, claim: Claimed, bursts: ReplyBursts) {
  const { event, deps } = attempt;
  const client = await deps.clients.get(event.tenant_id);
  if (!client?.active || client.phone_number_id !== event.phone_number_id) {
    return attempt.finish('tenant_inactive');
  }
  const contact = await bursts.contacts.getContact(event.tenant_id, event.contact.key);
  if (!contact) return attempt.finish('no_reply'); // erased meanwhile
  return replyToContact(attempt, claim, client, contact);
}

/**
 * After the burst's claim completed: the claims of its messages are completed too (a worker that
 * died after collecting one cannot add it again on redelivery, see burst-store.ts), then the answered
 * messages leave the burst; those that joined meanwhile get a wake-up of their own.
 */
async function settleBurst(
  wakeup: BurstWakeup,
  burstId: string,
  messages: PendingMessage[],
  deps: AnswerDeps,
): Promise<void> {
  const bursts = deps.bursts!;
  const now = clockOf(deps);
  const { tenant_id: tenantId, contact_key: contactKey } = wakeup;
  for (const message of messages) {
    // Counted in here when its collecting worker never got to complete it.
    if (await bursts.store.settleMessageClaim(tenantId, message.id, now())) {
      await report(deps, { type: 'message_handled', tenantId, receivedAt: new Date(message.received_at) });
    }
  }
  const rest = await bursts.store.clearAnswered(tenantId, contactKey, burstId);
  if (!rest) return;
  const client = await deps.clients.get(tenantId);
  const delay = client ? delayOf(client) : DEFAULT_REPLY_DELAY_SECONDS;
  await bursts.wakeups.schedule(
    { v: 1, tenant_id: tenantId, contact_key: contactKey, seq: rest.seq },
    wakeupDelaySeconds(delay, rest.firstAt, now().getTime()),
  );
}

/**
 * The burst as one customer message for the planner and the sender: the texts of its messages in
 * order, one per line, in reply (in context) to the last one. A burst without any text (photos
 * only) keeps the last message's type, so it gets the "text only" reply once.
 */
function burstEvent(tenantId: string, burst: ReplyBurst, messages: PendingMessage[]): InboundMessageEvent {
  const first = messages[0]!;
  const last = messages.at(-1)!;
  const texts = messages.flatMap((m) => (m.text?.trim() ? [m.text.trim()] : []));
  return {
    v: 1,
    kind: 'message',
    tenant_id: tenantId,
    phone_number_id: burst.phone_number_id,
    contact: burst.contact,
    message: {
      id: last.id,
      type: texts.length > 0 ? 'text' : last.type,
      timestamp: last.timestamp,
      ...(texts.length > 0 ? { text: texts.join('\n') } : {}),
    },
    ...(burst.channel ? { channel: burst.channel } : {}),
    received_at: first.received_at,
  };
}

/**
 * What the burst's answer must say besides answering its texts: that some media was not taken in
 * (or, with no text at all, the plain "text only" reply), and the transcripts it was unsure of.
 */
function burstUnderstanding(messages: PendingMessage[]): Understanding | undefined {
  const texts = messages.filter((m) => m.text?.trim());
  const unsure = texts.filter((m) => m.uncertain).map((m) => m.text!.trim());
  const unread = messages.some((m) => m.unread);
  if (texts.length === 0) return unread ? { kind: 'decline', reply: 'textOnly' } : undefined;
  if (!unread && unsure.length === 0) return undefined;
  return {
    kind: 'read',
    attachments: [],
    ...(unread ? { note: 'mediaUnreadNote' as const } : {}),
    ...(unsure.length > 0 ? { unsure: unsure.join(' ') } : {}),
  };
}

/**
 * The claim store as the planner and sender see it when what they answer is claimed under another
 * id than the event's message (a burst: its claim; a template after a refusal): they address the
 * claim by the message they quote.
 */
export function claimsUnder(claims: ClaimStore, burstId: string): ClaimStore {
  return {
    claim: (tenantId, _id, owner, now) => claims.claim(tenantId, burstId, owner, now),
    savePlan: (tenantId, _id, owner, plan, updates) =>
      claims.savePlan(tenantId, burstId, owner, plan, updates),
    markSent: (tenantId, _id, owner, sent, now) => claims.markSent(tenantId, burstId, owner, sent, now),
    complete: (tenantId, _id, owner, outcome) => claims.complete(tenantId, burstId, owner, outcome),
    release: (tenantId, _id, owner) => claims.release(tenantId, burstId, owner),
  };
}
