import {
  activeHandoff,
  defaultHandoffUntil,
  type HandoffView,
  MAX_HANDOFF_DAYS,
} from '../conversation/handoff.ts';
import { handoffRequestSchema } from '../conversation/handoff-schemas.ts';
import type { Contact, HandoffBy } from '../conversation/ports.ts';
import { clipped, NotFoundError, ValidationError } from '../errors.ts';
import { json, parseJsonBody } from '../http/http-response.ts';
import { logger } from '../logger.ts';
import type { ClientRoute } from './client-scoped-routes.ts';
import { pathParam, requireStorableContact } from './route-params.ts';

/**
 * Taking a chat over and giving it back (`POST` / `DELETE …/conversations/{contact}/handoff`): the
 * tenant's routes hand it over `by: "tenant"`, the operator's `by: "operator"`. While handed off the
 * bot sends nothing automatic to that customer; a release lets it answer the next message at once.
 */

const MAX_HANDOFF_MS = MAX_HANDOFF_DAYS * 24 * 3600_000;

const handoffBody = (contact: string, handoff: HandoffView | null) => ({ contact, handoff });

/** Until when a handoff asked for now lasts: the body's `until`, else the tenant's handoff_minutes. */
function untilOf(requested: string | undefined, handoffMinutes: number | undefined, now: Date): Date {
  if (requested === undefined) return defaultHandoffUntil({ handoff_minutes: handoffMinutes }, now);
  const until = new Date(requested);
  if (until.getTime() <= now.getTime()) throw new ValidationError('until must be in the future');
  if (until.getTime() - now.getTime() > MAX_HANDOFF_MS) {
    throw new ValidationError(`until must be at most ${MAX_HANDOFF_DAYS} days ahead`);
  }
  return until;
}

/** The contact named by the path; 404 when the tenant has no such conversation. */
function contactOf(event: Parameters<ClientRoute>[0], clientId: string): string {
  const contact = pathParam(event, 'contact');
  requireStorableContact(clientId, contact);
  return contact;
}

const noConversation = (contact: string) => new NotFoundError(`no conversation with ${clipped(contact)}`);

/** `POST …/handoff` `{"until"?}`: the chat is the business's until then. */
export const takeOverConversation =
  (by: Extract<HandoffBy, 'tenant' | 'operator'>): ClientRoute =>
  async (event, client, { conversations, now }) => {
    const contact = contactOf(event, client.id);
    const body = parseJsonBody(event, handoffRequestSchema, { optional: true });
    const at = now?.() ?? new Date();
    const until = untilOf(body.until, client.handoff_minutes, at);
    const stored = await conversations.setHandoff(client.id, contact, { until, by });
    if (!stored) throw noConversation(contact);
    logger.info('chat handed off', { clientId: client.id, by, until: until.toISOString() });
    return json(200, handoffBody(contact, activeHandoff(stored, at)));
  };

/** `DELETE …/handoff`: the bot answers the customer's next message. */
export const releaseConversation: ClientRoute = async (event, client, { conversations, now }) => {
  const contact = contactOf(event, client.id);
  const stored: Contact | undefined = await conversations.setHandoff(client.id, contact, null);
  if (!stored) throw noConversation(contact);
  logger.info('chat given back to the bot', { clientId: client.id });
  return json(200, handoffBody(contact, activeHandoff(stored, now?.() ?? new Date())));
};
