import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { Telemetry } from '../observability/telemetry.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ConversationStats } from '../stats/conversation-stats.ts';
import type { Client } from '../tenants/client.ts';
import { isGreetingOnly } from '../text/greetings.ts';
import { splitText } from '../text/split.ts';
import { cannedReplies, parseBotCommand, replyLanguage } from './canned-replies.ts';
import type { InboundMessageEvent, QueueEvent, StatusEvent } from './inbound-event.ts';
import {
  type AnsweredOutcome,
  outcomeSinks,
  type ReportedOutcome,
  reportOutcome,
  responderKindOf,
} from './outcomes.ts';
import {
  type ClaimResult,
  type ClaimStore,
  type ClientDirectory,
  type Contact,
  type ContactUpdates,
  type ConversationRecords,
  LostClaimError,
  MAX_TEXT_LENGTH,
  type Recipient,
  type Responder,
  type ResponderReply,
  SendFailure,
  type WhatsAppSender,
} from './ports.ts';

export interface AnswerDeps {
  clients: ClientDirectory;
  conversations: ConversationRecords;
  claims: ClaimStore;
  sender: WhatsAppSender;
  responder: Responder;
  secrets: Pick<SecretBox, 'decrypt'>;
  platformWhatsAppToken(): Promise<string | undefined>;
  retentionHours: number;
  /** How long sending stays paused after the platform's spam limit. */
  spamPauseHours?: number;
  /**
   * Time the responder may take (OpenAI with its retries) before it gives up and the FAQ responder
   * answers; the rest of the function's 90 s is for sending. Default 50 s.
   */
  responderBudgetMs?: number;
  /** Where answers, sends, send failures, duplicates and statuses are counted; default: nowhere. */
  telemetry?: Telemetry;
  /** The per-tenant 24 h statistics (GET /admin/stats); default: none. */
  stats?: ConversationStats;
  now?: () => Date;
}

/** Message types that never get an automatic reply (they are still recorded). */
const SILENT_TYPES = new Set(['reaction', 'system', 'unsupported', 'ephemeral', 'request_welcome', 'errors']);

export type AnswerOutcome =
  | 'replied'
  | 'duplicate'
  | 'no_reply'
  | 'tenant_inactive'
  | 'credentials_invalid'
  | 'sending_paused'
  | 'no_access_token'
  | 'window_closed'
  | 'send_failed'
  | 'lost_claim'
  | 'rerouted'
  | 'status_recorded';

const clockOf = (deps: AnswerDeps) => deps.now ?? (() => new Date());

const report = (deps: AnswerDeps, outcome: ReportedOutcome) => reportOutcome(outcomeSinks(deps), outcome);

/** Handles one event of the inbound queue. Throws only when the event should be retried. */
export async function handleQueueEvent(event: QueueEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  return event.kind === 'status' ? recordStatus(event, deps) : answerMessage(event, deps);
}

async function recordStatus(event: StatusEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const { tenant_id: tenantId, status } = event;
  const contactKey =
    (await deps.conversations.applyStatus(tenantId, status.message_id, status.status, status.error_codes)) ??
    event.contact_key;
  const windowClosed =
    status.status === 'failed' &&
    status.error_codes.some((code) => deps.sender.deliveryFailureKind(code) === 'window_closed');
  if (windowClosed && contactKey) {
    await deps.conversations.updateContact(tenantId, contactKey, {
      window_closed_at: clockOf(deps)().toISOString(),
    });
  }
  await report(deps, { type: 'status_recorded', tenantId });
  return 'status_recorded';
}

/** One worker's hold on one message: everything written after the claim names its owner. */
interface Attempt {
  event: InboundMessageEvent;
  deps: AnswerDeps;
  owner: string;
  now: () => Date;
  /** Set when this attempt's responder composed the answer (for the per-tenant statistics). */
  answered?: AnsweredOutcome;
  finish(outcome: AnswerOutcome): Promise<AnswerOutcome>;
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
          ...(attempt.answered ? { answered: attempt.answered } : {}),
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

/** A claim this worker holds: with the plan and progress of an earlier attempt, if any. */
type Claimed = Extract<ClaimResult, { outcome: 'claimed' }>;

async function answerClaimed(attempt: Attempt, claim: Claimed): Promise<AnswerOutcome> {
  const { event, deps } = attempt;
  const client = await deps.clients.get(event.tenant_id);
  if (!client?.active || client.phone_number_id !== event.phone_number_id) return rerouteOrDrop(attempt);

  const retentionHours = client.retention_hours ?? deps.retentionHours;
  const contact = await recordInbound(attempt, retentionHours);
  const blocked = sendingBlocked(client, attempt.now());
  if (blocked) return attempt.finish(blocked);
  const token = await accessTokenOf(client, deps);
  if (!token.value) {
    logger.error('no WhatsApp access token for tenant', { tenantId: client.id });
    return attempt.finish('no_access_token');
  }
  try {
    const plan = await planOnce(attempt, claim, client, contact, token.value);
    if (plan.length === 0) return await attempt.finish('no_reply');
    await sendPlan(attempt, plan, claim.sent, token.value, retentionHours);
    return await attempt.finish('replied');
  } catch (error) {
    if (!(error instanceof SendFailure)) throw error;
    const outcome = await settleSendFailure(error, attempt, token.ciphertext);
    if (!outcome) throw error;
    return attempt.finish(outcome);
  }
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

/** Stores the customer's message (for the operator), whether or not it gets an answer. */
async function recordInbound({ event, deps, now }: Attempt, retentionHours: number): Promise<Contact> {
  const tenantId = event.tenant_id;
  const contact = await deps.conversations.touchInbound(tenantId, event.contact, now(), retentionHours);
  await deps.conversations.putMessage(
    tenantId,
    event.contact.key,
    {
      id: event.message.id,
      direction: 'inbound',
      type: event.message.type,
      ...(event.message.text !== undefined ? { text: event.message.text } : {}),
      // Ordered by when we received it (ms): Meta's own timestamp has only second precision.
      at: event.received_at,
      sent_at: new Date(event.message.timestamp * 1000).toISOString(),
    },
    retentionHours,
  );
  return contact;
}

/** Why nothing may be sent for this client right now, if anything. */
function sendingBlocked(client: Client, now: Date): AnswerOutcome | undefined {
  if (client.credentials_status === 'invalid') return 'credentials_invalid';
  if (client.sending_paused_until && client.sending_paused_until > now.toISOString()) return 'sending_paused';
  return undefined;
}

/**
 * The token to send with: the tenant's own, else the platform's. `ciphertext` is the stored form
 * of the one in use (null: the platform token), so a token_invalid verdict flags the tenant only
 * while that token is still the stored one.
 */
async function accessTokenOf(client: Client, deps: AnswerDeps) {
  const ciphertext = client.whatsapp_access_token_enc ?? null;
  const value = ciphertext
    ? await deps.secrets.decrypt(ciphertext, { tenantId: client.id })
    : await deps.platformWhatsAppToken();
  return { value, ciphertext };
}

/**
 * The replies to send: the plan on the claim when a previous attempt stored one (a retry resumes it
 * instead of planning again, which would, e.g., forget the welcome), else a new one, stored before
 * anything is sent.
 */
async function planOnce(
  attempt: Attempt,
  claim: Claimed,
  client: Client,
  contact: Contact,
  accessToken: string,
): Promise<string[]> {
  const { event, deps, owner } = attempt;
  let plan = claim.plan;
  let contactUpdates = claim.contactUpdates ?? {};
  if (!plan) {
    const planned = await planReplies(attempt, client, contact, accessToken);
    ({ plan, contactUpdates } = planned);
    if (plan.length > 0) {
      await deps.claims.savePlan(event.tenant_id, event.message.id, owner, plan, contactUpdates);
    }
    // Only once the plan is on the claim: a takeover resumes it without asking the responder
    // again, so an answer is never counted twice.
    if (planned.answered) {
      attempt.answered = planned.answered;
      await report(deps, planned.answered);
    }
  }
  // Only once the plan is safe on the claim: idempotent, so a takeover applies them again.
  await deps.conversations.updateContact(event.tenant_id, event.contact.key, contactUpdates);
  return plan;
}

/** The replies planned for a message; `answered` when the responder composed one of them. */
interface PlannedReplies {
  plan: string[];
  contactUpdates: ContactUpdates;
  answered?: AnsweredOutcome;
}

async function planReplies(
  { event, deps, now }: Attempt,
  client: Client,
  contact: Contact,
  accessToken: string,
): Promise<PlannedReplies> {
  const text = event.message.text?.trim();
  const command = parseBotCommand(text);
  if (command) {
    const pause = command.command === 'pause';
    return {
      plan: [pause ? cannedReplies.paused[command.language] : cannedReplies.resumed[command.language]],
      contactUpdates: { bot_paused: pause },
    };
  }
  const contactUpdates: ContactUpdates = {};
  if (!client.bot_enabled || contact.bot_paused) return { plan: [], contactUpdates };
  if (SILENT_TYPES.has(event.message.type)) return { plan: [], contactUpdates };

  await markReadWhileTyping(event, deps, accessToken);
  const plan: string[] = [];
  if (!contact.welcomed_at && client.welcome_message) {
    plan.push(client.welcome_message);
    contactUpdates.welcomed_at = now().toISOString();
    if (isGreetingOnly(text)) return { plan, contactUpdates };
  }
  if (!text) {
    plan.push(cannedReplies.textOnly[replyLanguage(client.language)]);
    return { plan, contactUpdates };
  }
  const { reply, latencyMs } = await askResponder(client, contact, event.contact.key, text, deps);
  if (reply.conversationId && reply.conversationId !== contact.openai_conversation_id) {
    contactUpdates.openai_conversation_id = reply.conversationId;
  }
  plan.push(...splitText(reply.text, MAX_TEXT_LENGTH));
  const answered: AnsweredOutcome = {
    type: 'answered',
    tenantId: client.id,
    receivedAt: new Date(event.received_at),
    responder: responderKindOf(reply),
    latencyMs,
    inputTokens: reply.usage?.inputTokens ?? 0,
    outputTokens: reply.usage?.outputTokens ?? 0,
  };
  return { plan, contactUpdates, answered };
}

/** Blue ticks and the typing indicator while the reply is prepared; never worth failing over. */
async function markReadWhileTyping(event: InboundMessageEvent, deps: AnswerDeps, accessToken: string) {
  await deps.sender
    .markRead({
      phoneNumberId: event.phone_number_id,
      accessToken,
      messageId: event.message.id,
      typing: true,
    })
    .catch(async (error: unknown) => {
      // Except a dead token: nothing else would get through either. Only this failure ends the
      // attempt, so only it counts as a Graph error (the rate compares failures with parts sent).
      if (error instanceof SendFailure && error.kind === 'token_invalid') {
        await report(deps, { type: 'send_failed', tenantId: event.tenant_id, kind: error.kind });
        throw error;
      }
      logger.warn('mark-read failed', {
        tenantId: event.tenant_id,
        ...(error instanceof SendFailure ? { kind: error.kind, detail: error.detail } : {}),
      });
    });
}

/** Asks the responder chain; `latencyMs` is the time the responder took (not the key's decryption). */
async function askResponder(
  client: Client,
  contact: Contact,
  contactKey: string,
  text: string,
  deps: AnswerDeps,
): Promise<{ reply: ResponderReply; latencyMs: number }> {
  const now = clockOf(deps);
  const openaiApiKey = client.openai_api_key_enc
    ? await deps.secrets.decrypt(client.openai_api_key_enc, { tenantId: client.id })
    : undefined;
  const startedAt = now().getTime();
  const reply = await deps.responder.reply({
    tenant: {
      id: client.id,
      name: client.name,
      language: client.language,
      faqs: client.faqs,
      ...(client.business_hours ? { business_hours: client.business_hours } : {}),
      assistant: client.assistant,
      ...(openaiApiKey ? { openaiApiKey } : {}),
    },
    contact: {
      key: contactKey,
      ...(contact.openai_conversation_id ? { conversationId: contact.openai_conversation_id } : {}),
    },
    text,
    deadline: startedAt + (deps.responderBudgetMs ?? 50_000),
  });
  const latencyMs = now().getTime() - startedAt;
  if (reply.fallbackReason) {
    logger.warn('answered by the FAQ responder', { tenantId: client.id, reason: reply.fallbackReason });
  }
  return { reply, latencyMs };
}

/** Sends the planned parts from `firstUnsent` on, recording each on the claim as it goes out. */
async function sendPlan(
  attempt: Attempt,
  plan: string[],
  firstUnsent: number,
  accessToken: string,
  retentionHours: number,
) {
  const { event, deps, owner, now } = attempt;
  const tenantId = event.tenant_id;
  const messageId = event.message.id;
  for (let index = firstUnsent; index < plan.length; index++) {
    const text = plan[index]!;
    const sentAt = now().toISOString(); // before the send, so it sorts before anything it causes
    const sent = await sendPart(attempt, index, text, accessToken);
    await deps.claims.markSent(tenantId, messageId, owner, index + 1, now().getTime());
    await deps.conversations.putMessage(
      tenantId,
      event.contact.key,
      {
        id: sent.messageId,
        direction: 'outbound',
        type: 'text',
        text,
        at: sentAt,
        status: sent.status,
        in_reply_to: messageId,
      },
      retentionHours,
    );
  }
}

async function sendPart(
  { event, deps }: Attempt,
  index: number,
  text: string,
  accessToken: string,
): Promise<{ messageId: string; status: 'accepted' | 'unknown' }> {
  const tenantId = event.tenant_id;
  try {
    const { messageId } = await deps.sender.sendText({
      phoneNumberId: event.phone_number_id,
      accessToken,
      to: recipientOf(event),
      text,
      ...(index === 0 ? { replyTo: event.message.id } : {}),
    });
    await report(deps, { type: 'reply_sent', tenantId });
    return { messageId, status: 'accepted' };
  } catch (error) {
    if (!(error instanceof SendFailure)) throw error;
    // Every failure counts, those retried later included: a rate limit that clears is still one.
    await report(deps, { type: 'send_failed', tenantId, kind: error.kind });
    if (error.kind !== 'ambiguous') throw error;
    // The platform may have sent it: sending again could reply twice, so this part counts as sent,
    // with an unknown status.
    logger.warn('send outcome unknown; not repeated', { tenantId: event.tenant_id, part: index });
    return { messageId: `unknown:${event.message.id}:${index}`, status: 'unknown' };
  }
}

/** Replies go to the business-scoped user id when Meta gave one, else to the phone (wa_id). */
function recipientOf(event: InboundMessageEvent): Recipient {
  return {
    ...(event.contact.user_id ? { user_id: event.contact.user_id } : {}),
    ...(event.contact.wa_id ? { wa_id: event.contact.wa_id } : {}),
  };
}

/**
 * The send failures that end the attempt for good, recorded where they matter; undefined for those
 * worth retrying (rate limits, unavailability): the queue redelivers later.
 */
async function settleSendFailure(
  failure: SendFailure,
  { event, deps, now }: Attempt,
  tokenCiphertext: string | null,
): Promise<AnswerOutcome | undefined> {
  const tenantId = event.tenant_id;
  const at = now().toISOString();
  switch (failure.kind) {
    case 'token_invalid':
      logger.error('WhatsApp token rejected; tenant credentials marked invalid', {
        tenantId,
        detail: failure.detail,
      });
      // Only if the token we used is still the stored one: an operator may have just replaced it.
      await deps.clients.patch(
        tenantId,
        {
          credentials_status: 'invalid',
          credentials_status_reason: `${failure.detail} at ${at}: update whatsapp_access_token`,
        },
        { onlyIfTokenCiphertext: tokenCiphertext },
      );
      return 'credentials_invalid';
    case 'window_closed':
      await deps.conversations.updateContact(tenantId, event.contact.key, { window_closed_at: at });
      return 'window_closed';
    case 'spam_paused': {
      const until = new Date(now().getTime() + (deps.spamPauseHours ?? 24) * 3600_000).toISOString();
      logger.error('spam limit hit; sending paused for the tenant', { tenantId, until });
      await deps.clients.patch(tenantId, {
        sending_paused_until: until,
        sending_paused_reason: `${failure.detail} (spam rate limit) at ${at}`,
      });
      return 'sending_paused';
    }
    case 'permanent':
      logger.error('message could not be sent', { tenantId, detail: failure.detail });
      return 'send_failed';
    default:
      return undefined;
  }
}
