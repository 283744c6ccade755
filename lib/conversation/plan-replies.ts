import { logger } from '../logger.ts';
import type { Client } from '../tenants/client.ts';
import { isGreetingOnly } from '../text/greetings.ts';
import { splitText } from '../text/split.ts';
import { type AnswerDeps, type Attempt, type Claimed, clockOf, report } from './answer-attempt.ts';
import { cannedReplies, heardAs, parseBotCommand, replyLanguage } from './canned-replies.ts';
import type { InboundMessageEvent } from './inbound-event.ts';
import { type AnsweredOutcome, responderKindOf } from './outcomes.ts';
import { parsePersonRequest, personRequestPlan } from './person-request.ts';
import {
  type Contact,
  type ContactUpdates,
  MAX_TEXT_LENGTH,
  type ResponderAttachment,
  type ResponderReply,
  SendFailure,
} from './ports.ts';

/** Message types that never get an automatic reply (they are still recorded). */
export const SILENT_TYPES = new Set([
  'reaction',
  'sticker',
  'system',
  'unsupported',
  'ephemeral',
  'request_welcome',
  'errors',
]);

/** The least the responder is given, whatever the media took (one OpenAI attempt, or the fallback). */
const MIN_RESPONDER_MS = 15_000;

/** Message types answered with a fixed acknowledgement (what they carry is no question). */
export const ACKNOWLEDGED_TYPES: ReadonlyMap<string, 'locationReceived' | 'contactsReceived'> = new Map([
  ['location', 'locationReceived'],
  ['contacts', 'contactsReceived'],
]);

/**
 * The replies to send: the plan on the claim when a previous attempt stored one (a retry resumes it
 * instead of planning again, which would, e.g., forget the welcome), else a new one, stored before
 * anything is sent.
 */
export async function planOnce(
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
    if (attempt.mediaProcessed) await report(deps, attempt.mediaProcessed);
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
  attempt: Attempt,
  client: Client,
  contact: Contact,
  accessToken: string,
): Promise<PlannedReplies> {
  const { event, deps, now, understanding } = attempt;
  const text = event.message.text?.trim();
  // A person of the business has this chat: not even "activar bot" brings the bot back over them.
  if (contact.handoff_until && contact.handoff_until > now().toISOString())
    return { plan: [], contactUpdates: {} };
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
  const askedForPerson = parsePersonRequest(text);
  if (askedForPerson) return personRequestPlan(client, askedForPerson, now());
  const plan: string[] = [];
  if (!contact.welcomed_at && client.welcome_message) {
    plan.push(client.welcome_message);
    contactUpdates.welcomed_at = now().toISOString();
    if (isGreetingOnly(text)) return { plan, contactUpdates };
  }
  const language = replyLanguage(client.language);
  const acknowledgement = ACKNOWLEDGED_TYPES.get(event.message.type);
  const attachments = understanding?.kind === 'read' ? understanding.attachments : [];
  const fixed =
    understanding?.kind === 'decline'
      ? understanding.reply
      : (acknowledgement ?? (!text && attachments.length === 0 ? 'textOnly' : undefined));
  if (fixed) {
    plan.push(cannedReplies[fixed][language]);
    return { plan, contactUpdates };
  }
  const { reply, latencyMs } = await askResponder(
    client,
    contact,
    event.contact.key,
    { text: text ?? '', attachments },
    deps,
    attempt.mediaMs ?? 0,
  );
  if (reply.conversationId && reply.conversationId !== contact.openai_conversation_id) {
    contactUpdates.openai_conversation_id = reply.conversationId;
  }
  // An uncertain transcript: the customer sees what was understood, and can correct it.
  // Media that was not taken in is said first, so the caption's answer does not hide it.
  const read = understanding?.kind === 'read' ? understanding : undefined;
  const lead = [
    read?.note ? cannedReplies[read.note][language] : undefined,
    read?.unsure ? heardAs[language](read.unsure) : undefined,
  ].filter(Boolean);
  plan.push(...splitText([...lead, reply.text].join('\n\n'), MAX_TEXT_LENGTH));
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
export async function markReadWhileTyping(event: InboundMessageEvent, deps: AnswerDeps, accessToken: string) {
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
  { text, attachments }: { text: string; attachments: ResponderAttachment[] },
  deps: AnswerDeps,
  spentMs: number,
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
    ...(attachments.length > 0 ? { attachments } : {}),
    // What taking in the media took comes off the budget: the sends still fit in the invocation.
    deadline: startedAt + Math.max(MIN_RESPONDER_MS, (deps.responderBudgetMs ?? 50_000) - spentMs),
  });
  const latencyMs = now().getTime() - startedAt;
  if (reply.fallbackReason) {
    logger.warn('answered by the FAQ responder', { tenantId: client.id, reason: reply.fallbackReason });
  }
  return { reply, latencyMs };
}
