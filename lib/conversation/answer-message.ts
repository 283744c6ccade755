import { randomUUID } from 'node:crypto';
import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Client } from '../tenants/client.ts';
import type { ClientRepository } from '../tenants/client-repository.ts';
import { GraphApiError } from '../whatsapp/graph-client.ts';
import { splitForWhatsApp } from '../whatsapp/split-text.ts';
import { cannedReplies, isGreetingOnly, parseBotCommand, replyLanguage } from './canned-replies.ts';
import type { Contact, ConversationStore } from './conversation-store.ts';
import type { InboundMessageEvent, QueueEvent, StatusEvent } from './inbound-event.ts';
import { LostClaimError, type MessageClaims } from './message-claims.ts';
import type { Responder, WhatsAppSender } from './ports.ts';

export interface AnswerDeps {
  clients: ClientRepository;
  conversations: ConversationStore;
  claims: MessageClaims;
  sender: WhatsAppSender;
  responder: Responder;
  secrets: SecretBox;
  platformWhatsAppToken(): Promise<string | undefined>;
  retentionHours: number;
  /** How long sending stays paused after Meta's spam limit (131048). */
  spamPauseHours?: number;
  /**
   * Time the responder may take (OpenAI with its retries) before it gives up and the FAQ responder
   * answers; the rest of the function's 90 s is for sending. Default 50 s.
   */
  responderBudgetMs?: number;
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

/** Handles one event of the inbound queue. Throws only when the event should be retried. */
export async function handleQueueEvent(event: QueueEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  return event.kind === 'status' ? recordStatus(event, deps) : answerMessage(event, deps);
}

async function recordStatus(event: StatusEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const { tenant_id: tenantId, status } = event;
  const contactKey = await deps.conversations.applyStatus(
    tenantId,
    status.message_id,
    status.status,
    status.error_codes,
  );
  if (
    status.status === 'failed' &&
    status.error_codes.includes(131047) &&
    (contactKey ?? event.contact_key)
  ) {
    await deps.conversations.updateContact(tenantId, (contactKey ?? event.contact_key)!, {
      window_closed_at: (deps.now?.() ?? new Date()).toISOString(),
    });
  }
  return 'status_recorded';
}

/**
 * Answers one customer message exactly once: claim → tenant and contact → commands, welcome,
 * responder → send (resumable) → record. See message-claims.ts for the exactly-once argument.
 */
export async function answerMessage(event: InboundMessageEvent, deps: AnswerDeps): Promise<AnswerOutcome> {
  const now = () => deps.now?.() ?? new Date();
  const tenantId = event.tenant_id;
  const messageId = event.message.id;
  const owner = randomUUID();
  const claim = await deps.claims.claim(tenantId, messageId, owner, now().getTime());
  if (claim.outcome === 'done') return 'duplicate';
  if (claim.outcome === 'busy') throw new TransientError('message is being answered by another worker');

  const finish = async (outcome: AnswerOutcome) => {
    await deps.claims.complete(tenantId, messageId, owner, outcome);
    return outcome;
  };

  /** The stored ciphertext of the token in use (null: the platform token), for a 190 verdict. */
  let tokenCiphertext: string | null | undefined;
  try {
    const client = await deps.clients.get(tenantId);
    if (!client?.active || client.phone_number_id !== event.phone_number_id) {
      // The webhook's route cache may be stale (a number moved to another client): ask again.
      const route = await deps.clients.findRoute(event.phone_number_id, { consistent: true });
      if (route?.active && route.client_id !== tenantId) {
        await finish('rerouted');
        return await answerMessage({ ...event, tenant_id: route.client_id }, deps);
      }
      return await finish('tenant_inactive');
    }

    const retentionHours = client.retention_hours ?? deps.retentionHours;
    const contact = await deps.conversations.touchInbound(tenantId, event.contact, now(), retentionHours);
    await deps.conversations.putMessage(
      tenantId,
      event.contact.key,
      {
        id: messageId,
        direction: 'inbound',
        type: event.message.type,
        ...(event.message.text !== undefined ? { text: event.message.text } : {}),
        // Ordered by when we received it (ms): Meta's own timestamp has only second precision.
        at: event.received_at,
        sent_at: new Date(event.message.timestamp * 1000).toISOString(),
      },
      retentionHours,
    );

    if (client.credentials_status === 'invalid') return await finish('credentials_invalid');
    if (client.sending_paused_until && client.sending_paused_until > now().toISOString()) {
      return await finish('sending_paused');
    }
    tokenCiphertext = client.whatsapp_access_token_enc ?? null;
    const accessToken = client.whatsapp_access_token_enc
      ? await deps.secrets.decrypt(client.whatsapp_access_token_enc, { tenantId })
      : await deps.platformWhatsAppToken();
    if (!accessToken) {
      logger.error('no WhatsApp access token for tenant', { tenantId });
      return await finish('no_access_token');
    }

    let plan = claim.plan;
    let contactUpdates = claim.contactUpdates ?? {};
    if (!plan) {
      ({ plan, contactUpdates } = await planReplies(event, client, contact, accessToken, deps));
      if (plan.length > 0) await deps.claims.savePlan(tenantId, messageId, owner, plan, contactUpdates);
    }
    // Only once the plan is safe on the claim (a retry resumes it instead of planning again, which
    // would, e.g., forget the welcome): idempotent, so a takeover applies them again.
    await deps.conversations.updateContact(tenantId, event.contact.key, contactUpdates);
    if (plan.length === 0) return await finish('no_reply');

    const to = {
      ...(event.contact.user_id ? { user_id: event.contact.user_id } : {}),
      ...(event.contact.wa_id ? { wa_id: event.contact.wa_id } : {}),
    };
    for (let index = claim.sent; index < plan.length; index++) {
      const text = plan[index]!;
      const sentAt = now().toISOString(); // before the send, so it sorts before anything it causes
      let sent: { messageId: string };
      let status = 'accepted';
      try {
        sent = await deps.sender.sendText({
          phoneNumberId: event.phone_number_id,
          accessToken,
          to,
          text,
          ...(index === 0 ? { replyTo: messageId } : {}),
        });
      } catch (error) {
        if (!(error instanceof GraphApiError && error.ambiguous)) throw error;
        // Meta may have sent it (timeout or connection lost after the request went out): sending
        // again could reply twice, so this part counts as sent, with an unknown status.
        logger.warn('send outcome unknown; not repeated', { tenantId, part: index });
        sent = { messageId: `unknown:${messageId}:${index}` };
        status = 'unknown';
      }
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
          status,
          in_reply_to: messageId,
        },
        retentionHours,
      );
    }
    return await finish('replied');
  } catch (error) {
    if (error instanceof LostClaimError) return 'lost_claim';
    if (error instanceof GraphApiError) {
      const handled = await handleGraphError(error, event, deps, tokenCiphertext);
      if (handled) return await finish(handled);
    }
    await deps.claims.release(tenantId, messageId, owner);
    throw error;
  }
}

/** Contact changes a plan implies; applied only once the plan is stored on the claim. */
export type ContactUpdates = Partial<Pick<Contact, 'bot_paused' | 'welcomed_at' | 'openai_conversation_id'>>;

async function planReplies(
  event: InboundMessageEvent,
  client: Client,
  contact: Contact,
  accessToken: string,
  deps: AnswerDeps,
): Promise<{ plan: string[]; contactUpdates: ContactUpdates }> {
  const tenantId = client.id;
  const text = event.message.text?.trim();
  const language = replyLanguage(client.language);

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

  // Blue ticks and the typing indicator while the reply is prepared; never worth failing over.
  await deps.sender
    .markRead({
      phoneNumberId: event.phone_number_id,
      accessToken,
      messageId: event.message.id,
      typing: true,
    })
    .catch((error) => {
      if (error instanceof GraphApiError && error.kind === 'token_invalid') throw error;
      logger.warn('mark-read failed', {
        tenantId,
        code: error instanceof GraphApiError ? error.code : undefined,
      });
    });

  const plan: string[] = [];
  if (!contact.welcomed_at && client.welcome_message) {
    plan.push(client.welcome_message);
    contactUpdates.welcomed_at = (deps.now?.() ?? new Date()).toISOString();
    if (isGreetingOnly(text)) return { plan, contactUpdates };
  }
  if (!text) {
    plan.push(cannedReplies.textOnly[language]);
    return { plan, contactUpdates };
  }

  let openaiApiKey: string | undefined;
  if (client.openai_api_key_enc)
    openaiApiKey = await deps.secrets.decrypt(client.openai_api_key_enc, { tenantId });
  const reply = await deps.responder.reply({
    tenant: {
      id: tenantId,
      name: client.name,
      language: client.language,
      faqs: client.faqs,
      ...(client.business_hours ? { business_hours: client.business_hours } : {}),
      assistant: client.assistant,
      ...(openaiApiKey ? { openaiApiKey } : {}),
    },
    contact: {
      key: event.contact.key,
      ...(contact.openai_conversation_id ? { conversationId: contact.openai_conversation_id } : {}),
    },
    text,
    deadline: (deps.now?.() ?? new Date()).getTime() + (deps.responderBudgetMs ?? 50_000),
  });
  if (reply.conversationId && reply.conversationId !== contact.openai_conversation_id) {
    contactUpdates.openai_conversation_id = reply.conversationId;
  }
  if (reply.fallbackReason)
    logger.warn('answered by the FAQ responder', { tenantId, reason: reply.fallbackReason });
  plan.push(...splitForWhatsApp(reply.text));
  return { plan, contactUpdates };
}

/** The Graph errors that end the attempt for good; undefined for those worth retrying. */
async function handleGraphError(
  error: GraphApiError,
  event: InboundMessageEvent,
  deps: AnswerDeps,
  tokenCiphertext: string | null | undefined,
): Promise<AnswerOutcome | undefined> {
  const tenantId = event.tenant_id;
  const now = deps.now?.() ?? new Date();
  switch (error.kind) {
    case 'token_invalid':
      logger.error('WhatsApp token rejected; tenant credentials marked invalid', {
        tenantId,
        code: error.code,
      });
      // Only if the token we used is still the stored one: an operator may have just replaced it.
      await deps.clients.patch(
        tenantId,
        {
          credentials_status: 'invalid',
          credentials_status_reason: `Graph API error ${error.code ?? error.httpStatus} at ${now.toISOString()}: update whatsapp_access_token`,
        },
        tokenCiphertext === undefined ? {} : { onlyIfTokenCiphertext: tokenCiphertext },
      );
      return 'credentials_invalid';
    case 'window_closed':
      await deps.conversations.updateContact(tenantId, event.contact.key, {
        window_closed_at: now.toISOString(),
      });
      return 'window_closed';
    case 'spam_limited': {
      const until = new Date(now.getTime() + (deps.spamPauseHours ?? 24) * 3600_000).toISOString();
      logger.error('Meta spam limit hit; sending paused for the tenant', { tenantId, until });
      await deps.clients.patch(tenantId, {
        sending_paused_until: until,
        sending_paused_reason: `Graph API error 131048 (spam rate limit) at ${now.toISOString()}`,
      });
      return 'sending_paused';
    }
    case 'permanent':
      logger.error('message could not be sent', { tenantId, code: error.code, httpStatus: error.httpStatus });
      return 'send_failed';
    default:
      return undefined; // throughput, pair rate limit, server: the queue redelivers later
  }
}
