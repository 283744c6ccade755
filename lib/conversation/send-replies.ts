import { logger } from '../logger.ts';
import { type AnswerOutcome, type Attempt, report } from './answer-attempt.ts';
import { takenOverBeforeSend } from './handoff.ts';
import type { InboundMessageEvent } from './inbound-event.ts';
import { type Recipient, SendFailure } from './ports.ts';
import {
  closedWindowMark,
  needsTemplate,
  recordWindowClosed,
  refusedForWindow,
  sendTemplateInstead,
} from './service-window.ts';

/**
 * Sends the planned parts from `firstUnsent` on, recording each on the claim as it goes out.
 * Stops with `handed_off` when a person took the chat meanwhile (checked before every part).
 */
export async function sendPlan(
  attempt: Attempt,
  plan: string[],
  firstUnsent: number,
  accessToken: string,
  retentionHours: number,
): Promise<AnswerOutcome> {
  const { event, deps, owner, now } = attempt;
  const tenantId = event.tenant_id;
  const messageId = event.message.id;
  for (let index = firstUnsent; index < plan.length; index++) {
    if (await takenOverBeforeSend(deps.conversations, tenantId, event.contact.key, now())) {
      logger.info('chat handed off; planned reply not sent', { tenantId, part: index });
      return 'handed_off';
    }
    const text = plan[index]!;
    const { window } = attempt;
    // Outside the 24-hour window (Cloud API): the rest of the plan goes out once, as a template.
    if (window && needsTemplate(attempt, window)) {
      await sendTemplateInstead(attempt, window, plan, index, accessToken, retentionHours);
      return 'replied';
    }
    const sentAt = now().toISOString(); // before the send, so it sorts before anything it causes
    let sent: Awaited<ReturnType<typeof sendPart>>;
    try {
      sent = await sendPart(attempt, index, text, accessToken);
    } catch (error) {
      if (!window || !refusedForWindow(window, error)) throw error;
      await recordWindowClosed(attempt, window);
      await sendTemplateInstead(attempt, window, plan, index, accessToken, retentionHours);
      return 'replied';
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
        status: sent.status,
        in_reply_to: messageId,
      },
      retentionHours,
    );
  }
  return 'replied';
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
export function recipientOf(event: InboundMessageEvent): Recipient {
  return {
    ...(event.contact.user_id ? { user_id: event.contact.user_id } : {}),
    ...(event.contact.wa_id ? { wa_id: event.contact.wa_id } : {}),
  };
}

/**
 * The send failures that end the attempt for good, recorded where they matter; undefined for those
 * worth retrying (rate limits, unavailability): the queue redelivers later.
 */
export async function settleSendFailure(
  failure: SendFailure,
  { event, deps, now, window }: Attempt,
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
    case 'window_closed': {
      // Marked on the customer message whose window it was; when only our clock said so, the
      // contact's own times already do.
      const mark = closedWindowMark(window?.contact);
      if (mark)
        await deps.conversations.updateContact(tenantId, event.contact.key, { window_closed_at: mark });
      return 'window_closed';
    }
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
