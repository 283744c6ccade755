import { type Client, DEFAULT_HANDOFF_MINUTES } from '../tenants/client.ts';
import type { Contact, ConversationRecords, HandoffBy } from './ports.ts';

/**
 * The handoff: a person of the business has a chat, and the bot sends nothing automatic to it until
 * `handoff_until`. A person's own messages (QR sessions, Cloud API `smb_message_echoes`) set it to
 * the tenant's `handoff_minutes` from each message, so it ends by itself after that much silence
 * from them; the tenant and the operator set or release it through the API; a customer who asks for
 * a person sets it too. Nothing runs when it ends: every check compares `handoff_until` with now.
 */

/** The longest a handoff set through the API may last. */
export const MAX_HANDOFF_DAYS = 30;

/** A chat's handoff as the API shows it. */
export interface HandoffView {
  by: HandoffBy;
  until: string;
}

/** The contact's handoff while it lasts; null when there is none or it has run out. */
export function activeHandoff(
  contact: Pick<Contact, 'handoff_until' | 'handoff_by'>,
  now: Date,
): HandoffView | null {
  if (!contact.handoff_until || contact.handoff_until <= now.toISOString()) return null;
  return { by: contact.handoff_by ?? 'person', until: contact.handoff_until };
}

/** Whether the bot answers this chat now: it is on, the contact did not pause it, no person has it. */
export function botAnswers(client: Pick<Client, 'bot_enabled'>, contact: Contact, now: Date): boolean {
  return client.bot_enabled && !contact.bot_paused && activeHandoff(contact, now) === null;
}

/** Until when a handoff starting now lasts by default: the tenant's `handoff_minutes`. */
export function defaultHandoffUntil(client: Pick<Client, 'handoff_minutes'>, now: Date): Date {
  return new Date(now.getTime() + (client.handoff_minutes ?? DEFAULT_HANDOFF_MINUTES) * 60_000);
}

/**
 * Whether someone took the chat since the reply was planned: read again right before each part is
 * sent, so a reply planned before the owner typed is not sent after. A handoff the customer asked
 * for is the bot's own doing (the reply that says a person will answer is part of it, and a resumed
 * attempt must still send it): it stops what is planned next (plan-replies.ts), not that reply.
 */
export async function takenOverBeforeSend(
  conversations: Pick<ConversationRecords, 'getContact'>,
  tenantId: string,
  contactKey: string,
  now: Date,
): Promise<boolean> {
  const contact = await conversations.getContact(tenantId, contactKey);
  const handoff = contact ? activeHandoff(contact, now) : null;
  return handoff !== null && handoff.by !== 'customer_request';
}
