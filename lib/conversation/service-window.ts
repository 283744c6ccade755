import { logger } from '../logger.ts';
import type { Client } from '../tenants/client.ts';
import { templateParameters } from '../whatsapp/message-templates.ts';
import { type Attempt, report } from './answer-attempt.ts';
import { type ApprovedTemplate, type Contact, SendFailure } from './ports.ts';
import { recipientOf } from './send-replies.ts';

/**
 * Meta's 24-hour customer service window (DESIGN §8): free-form messages reach a customer only
 * within 24 hours of their last message; after that only an approved template does. The window runs
 * from Meta's timestamp of the customer's latest message (`last_customer_message_at`, which only
 * moves forward): our replies and what a person of the business sends from the app never extend it.
 * Meta may also say so itself (131047, `window_closed_at`), which closes it until the customer
 * writes again.
 *
 * Outside the window a planned reply goes out once as the tenant's `window_template`, its body
 * parameters filled from the reply; without a template (or one no longer approved) nothing is sent
 * and the message ends `window_closed`, with a "not sent" record in its conversation. A free-form
 * send Meta refuses with 131047 gets the template once, never again: a template that fails too
 * ends the attempt.
 *
 * Cloud API tenants only: a QR tenant writes from a linked account, which the window does not bind.
 */

export const WINDOW_MS = 24 * 3_600_000;

/** What the window rules need of the contact. */
export type WindowFacts = Pick<Contact, 'last_customer_message_at' | 'last_inbound_at' | 'window_closed_at'>;

/** When the window of a contact closes (closed already if Meta said so since they last wrote). */
export function windowClosesAt(contact: WindowFacts): Date | undefined {
  // Contacts stored before the customer's own time was kept have only the time we received it.
  const opened = contact.last_customer_message_at ?? contact.last_inbound_at;
  if (!opened) return undefined;
  if (contact.window_closed_at && contact.window_closed_at >= opened)
    return new Date(contact.window_closed_at);
  return new Date(Date.parse(opened) + WINDOW_MS);
}

/** Whether only templates reach the contact at `now`. */
export function isWindowClosed(contact: WindowFacts, now: Date): boolean {
  const closes = windowClosesAt(contact);
  return closes === undefined || now.getTime() >= closes.getTime();
}

/** Whether a client's sends are bound by the window: Cloud API tenants, not QR ones. */
export const boundByWindow = (client: Pick<Client, 'channel'>) => client.channel !== 'qr';

/** The conversation a reply goes to, as the window rules read it (set on the attempt once recorded). */
export interface WindowContext {
  client: Client;
  contact: Contact;
}

/** Whether the next part of the plan must go out as a template instead. */
export function needsTemplate(attempt: Attempt, window: WindowContext | undefined): boolean {
  if (!window || !boundByWindow(window.client)) return false;
  return isWindowClosed(window.contact, attempt.now());
}

/** Whether a failed free-form send was Meta refusing it for the window (131047). */
export function refusedForWindow(window: WindowContext | undefined, error: unknown): boolean {
  return (
    window !== undefined &&
    boundByWindow(window.client) &&
    error instanceof SendFailure &&
    error.kind === 'window_closed'
  );
}

/**
 * What `window_closed_at` records when Meta refused a send meant for this contact: the customer
 * message whose window Meta found closed (not our clock: a message the customer writes a moment
 * later, handled after a backlog, must find its own window open).
 */
export function closedWindowMark(contact: WindowFacts | undefined): string | undefined {
  return contact?.last_customer_message_at ?? contact?.last_inbound_at;
}

/** Meta said the window is closed: the contact remembers it until the customer writes again. */
export async function recordWindowClosed(attempt: Attempt, window: WindowContext): Promise<void> {
  const at = closedWindowMark(window.contact);
  if (!at) return;
  window.contact = { ...window.contact, window_closed_at: at };
  await attempt.deps.conversations.updateContact(attempt.event.tenant_id, attempt.event.contact.key, {
    window_closed_at: at,
  });
}

/**
 * Sends the rest of the plan (from `firstUnsent`) as one template message, once; records it like a
 * reply. Rejects with a {@link SendFailure} of kind `window_closed` when there is no usable
 * template (after recording why nothing was sent), or with the template send's own failure.
 */
export async function sendTemplateInstead(
  attempt: Attempt,
  window: WindowContext,
  plan: string[],
  firstUnsent: number,
  accessToken: string,
  retentionHours: number,
): Promise<void> {
  const { event, deps, owner, now } = attempt;
  const tenantId = event.tenant_id;
  const reply = plan.slice(firstUnsent).join('\n\n');
  const chosen = window.client.window_template;
  const definition = chosen ? await definitionOf(attempt, window.client, chosen, accessToken) : undefined;
  if (!chosen || !definition) {
    const reason = chosen
      ? `window_template "${chosen.name}" (${chosen.language}) is not an approved template of the WABA`
      : 'no window_template is set';
    logger.warn('outside the 24-hour window: reply not sent', { tenantId, reason });
    await recordNotSent(attempt, reply, `window_closed: ${reason}`, retentionHours);
    throw new SendFailure('outside the 24-hour window, and no template to send', {
      kind: 'window_closed',
      detail: `outside the 24-hour window; ${reason}`,
    });
  }
  const bodyParameters = templateParameters(definition, reply);
  const sentAt = now().toISOString();
  let messageId: string;
  let status: 'accepted' | 'unknown' = 'accepted';
  try {
    ({ messageId } = await deps.sender.sendTemplate({
      phoneNumberId: event.phone_number_id,
      accessToken,
      to: recipientOf(event),
      name: chosen.name,
      language: chosen.language,
      bodyParameters,
    }));
    await report(deps, { type: 'reply_sent', tenantId });
  } catch (error) {
    if (!(error instanceof SendFailure)) throw error;
    await report(deps, { type: 'send_failed', tenantId, kind: error.kind });
    // Never a second template, nor the text again: the attempt ends with this failure.
    if (error.kind !== 'ambiguous') throw error;
    logger.warn('template send outcome unknown; not repeated', { tenantId });
    messageId = `unknown:${event.message.id}:template`;
    status = 'unknown';
  }
  logger.info('outside the 24-hour window: reply sent as a template', {
    tenantId,
    template: chosen.name,
    parameters: bodyParameters.length,
  });
  await deps.claims.markSent(tenantId, event.message.id, owner, plan.length, now().getTime());
  await deps.conversations.putMessage(
    tenantId,
    event.contact.key,
    {
      id: messageId,
      direction: 'outbound',
      type: 'template',
      text: bodyParameters.map((parameter) => parameter.text).join(' '),
      template: { name: chosen.name, language: chosen.language },
      at: sentAt,
      status,
      in_reply_to: event.message.id,
    },
    retentionHours,
  );
}

/**
 * The approved template's definition, to know its body parameters. Without a WABA to read (or when
 * reading it fails) the template is assumed to take one parameter, the usual "{{1}}": the send
 * itself then tells. Undefined when the WABA was read and the template is not approved on it.
 */
async function definitionOf(
  { event, deps }: Attempt,
  client: Client,
  template: { name: string; language: string },
  accessToken: string,
): Promise<Pick<ApprovedTemplate, 'body_parameters' | 'parameter_names' | 'body_text'> | undefined> {
  const assumed = { body_parameters: 1 };
  if (!deps.templates || !client.waba_id) return assumed;
  try {
    return await deps.templates.findApproved(client.id, client.waba_id, accessToken, template);
  } catch (error) {
    logger.warn('message templates not readable; assuming one body parameter', {
      tenantId: event.tenant_id,
      error: error instanceof Error ? error.name : 'unknown',
    });
    return assumed;
  }
}

/** A reply that could not go out, kept in the conversation with why, for the operator and tenant. */
async function recordNotSent(attempt: Attempt, reply: string, reason: string, retentionHours: number) {
  const { event, deps, now } = attempt;
  await deps.conversations.putMessage(
    event.tenant_id,
    event.contact.key,
    {
      id: `not_sent:${event.message.id}`,
      direction: 'outbound',
      type: 'text',
      text: reply,
      at: now().toISOString(),
      status: 'not_sent',
      not_sent_reason: reason,
      in_reply_to: event.message.id,
    },
    retentionHours,
  );
}
