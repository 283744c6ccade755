import { logger } from '../logger.ts';
import type { Client } from '../tenants/client.ts';
import type { AnswerDeps, AnswerOutcome, Attempt, Claimed } from './answer-attempt.ts';
import { planOnce } from './plan-replies.ts';
import { type Contact, SendFailure } from './ports.ts';
import { sendPlan, settleSendFailure } from './send-replies.ts';

/**
 * The reply to what an attempt holds (one message, or a contact's burst): the tenant may send now, a
 * token to send with, then the plan (the one on the claim, else a new one) sent part by part, and a
 * send failure settled. Both answering paths go through here, so every rule of sending (the handoff
 * re-read, the 24-hour window) holds for both alike. `divert`, given the access token, may take the
 * attempt elsewhere before anything is planned (a message that joins its contact's burst).
 */
export async function replyToContact(
  attempt: Attempt,
  claim: Claimed,
  client: Client,
  contact: Contact,
  divert?: (accessToken: string) => Promise<AnswerOutcome | undefined>,
): Promise<AnswerOutcome> {
  const { deps } = attempt;
  attempt.window = { client, contact };
  const blocked = sendingBlocked(client, attempt.now());
  if (blocked) return attempt.finish(blocked);
  const token = await accessTokenOf(client, deps);
  if (!token.value && client.channel !== 'qr') {
    logger.error('no WhatsApp access token for tenant', { tenantId: client.id });
    return attempt.finish('no_access_token');
  }
  try {
    const accessToken = token.value ?? '';
    const diverted = await divert?.(accessToken);
    if (diverted) return diverted;
    const plan = await planOnce(attempt, claim, client, contact, accessToken);
    if (plan.length === 0) return await attempt.finish('no_reply');
    const retentionHours = client.retention_hours ?? deps.retentionHours;
    return await attempt.finish(await sendPlan(attempt, plan, claim.sent, accessToken, retentionHours));
  } catch (error) {
    if (!(error instanceof SendFailure)) throw error;
    const outcome = await settleSendFailure(error, attempt, token.ciphertext);
    if (!outcome) throw error;
    return attempt.finish(outcome);
  }
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
export async function accessTokenOf(client: Client, deps: AnswerDeps) {
  // A QR tenant sends through its linked session (the runner): no Cloud API token.
  if (client.channel === 'qr') return { value: '', ciphertext: null };
  const ciphertext = client.whatsapp_access_token_enc ?? null;
  const value = ciphertext
    ? await deps.secrets.decrypt(ciphertext, { tenantId: client.id })
    : await deps.platformWhatsAppToken();
  return { value, ciphertext };
}
