import { invitationEmail } from '../email/invitation-email.ts';
import type { Mailer } from '../email/mailer.ts';
import { ConflictError, GoneError, NotFoundError, ValidationError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { ApiKeyRepository, CreatedApiKey } from './api-key-repository.ts';
import { type Client, type InvitationStatus, landingUrl } from './client.ts';
import type { ClientService } from './client-service.ts';
import type { InvitationRepository } from './invitation-repository.ts';

/**
 * How a business gets in: the operator's invitation e-mail (its landing link with a single-use
 * token), exchanged once for the tenant's first API key. Sending never fails the operator's request:
 * the outcome is recorded on the client (`invitation`), a failure with its reason.
 */

export interface OnboardingDeps {
  clients: ClientService;
  invitations: InvitationRepository;
  apiKeys: ApiKeyRepository;
  /** How invitations are sent, or why they cannot be on this deployment. */
  mail: { mailer: Mailer } | { unavailable: string };
  publicBaseUrl?: string | undefined;
  now?: () => Date;
}

/** The answer to every token that does not work: never issued, voided, used, expired, or malformed. */
export const INVITATION_NOT_VALID =
  'this invitation link is not valid (already used, replaced by a newer one, or expired): ask for a new one';

export interface AcceptedInvitation extends CreatedApiKey {
  client_id: string;
}

export class Onboarding {
  constructor(private readonly deps: OnboardingDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * Sends the client a new invitation (voiding the previous one) and records the outcome. Throws only
   * when there is nobody to send it to; every failure to send ends as `failed` with the reason.
   */
  async invite(client: Client): Promise<InvitationStatus> {
    if (!client.email) {
      throw new ValidationError('the client has no email: set its email (PATCH /clients/{id}) first', [
        { field: 'email', message: 'required to send an invitation' },
      ]);
    }
    const status = await this.send(client, client.email);
    await this.deps.clients.recordInvitation(client.id, status);
    if (status.status === 'failed') {
      logger.warn('invitation not sent', { clientId: client.id, reason: status.reason });
    } else logger.info('invitation sent', { clientId: client.id });
    return status;
  }

  private async send(client: Client, to: string): Promise<InvitationStatus> {
    const failed = (reason: string): InvitationStatus => ({ status: 'failed', to, reason });
    const { mail } = this.deps;
    if ('unavailable' in mail) return failed(mail.unavailable);
    const landing = landingUrl(client, { publicBaseUrl: this.deps.publicBaseUrl });
    if (!landing) return failed('the public URL of this deployment (PUBLIC_BASE_URL) is not configured');
    try {
      await this.deps.clients.ensureLandingPage(client);
      const invitation = await this.deps.invitations.issueInvitation(client.id, this.now());
      const link = `${landing}?invite=${encodeURIComponent(invitation.token)}`;
      await mail.mailer.send(
        invitationEmail({
          to,
          businessName: client.name,
          language: client.language,
          link,
          validUntil: invitation.valid_until,
        }),
      );
      return { status: 'sent', to, sent_at: this.now().toISOString() };
    } catch (error) {
      if (error instanceof NotFoundError) return failed('the client is deactivated: reactivate it first');
      const name = (error as Error)?.name ?? 'Error';
      const message = (error as Error)?.message ?? String(error);
      // SES explains refusals in plain words (an unverified address in the sandbox, for one).
      return failed(`the e-mail could not be sent (${name}: ${message.slice(0, 300)})`);
    }
  }

  /**
   * The tenant's first key for a valid invitation, which it uses up. Any token that does not work is
   * GoneError with one message; when the key cannot be created (the tenant already holds two keys,
   * or it was deactivated) the invitation is given back and the reason is the key's.
   */
  async accept(token: string): Promise<AcceptedInvitation> {
    const tenantId = await this.deps.invitations.redeemInvitation(token, this.now());
    if (!tenantId) throw new GoneError(INVITATION_NOT_VALID);
    try {
      const key = await this.deps.apiKeys.createApiKey(tenantId, this.now());
      logger.info('invitation accepted', { clientId: tenantId, keyId: key.key_id, prefix: key.prefix });
      return { client_id: tenantId, ...key };
    } catch (error) {
      // Given back only when the key was surely not created (refused); after an ambiguous failure
      // (a timeout after the write) it stays used rather than risk a second key.
      if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error;
      await this.deps.invitations.releaseInvitation(token).catch((releaseError: unknown) => {
        logger.error('could not give a redeemed invitation back', {
          clientId: tenantId,
          error: (releaseError as Error)?.name ?? String(releaseError),
        });
      });
      if (error instanceof NotFoundError) throw new GoneError(INVITATION_NOT_VALID);
      throw error;
    }
  }
}
