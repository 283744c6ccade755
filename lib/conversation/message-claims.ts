import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAfterHours, isConditionFailure } from '../storage/table.ts';
import { claimKeys } from './keys.ts';
import { type ClaimResult, type ClaimStore, type ContactUpdates, LostClaimError } from './ports.ts';

/**
 * Exactly-once answering. Before any side effect the worker claims the message id (wamid) with a
 * conditional write. A claim is a lease: if the worker dies, the lease runs out and a redelivery may
 * take over. The planned replies and how many were sent are kept on the claim, so a takeover resumes
 * where the dead worker stopped instead of answering again.
 */

/** Meta retries for up to 7 days: keep claims a day longer. */
export const CLAIM_RETENTION_HOURS = 8 * 24;

export class MessageClaims implements ClaimStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly leaseMs: number,
  ) {}

  async claim(tenantId: string, messageId: string, owner: string, now: number): Promise<ClaimResult> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKeys.claim(tenantId, messageId),
          UpdateExpression:
            'SET #state = :working, lease_owner = :owner, lease_until = :until, attempts = if_not_exists(attempts, :zero) + :one, ' +
            'claimed_at = if_not_exists(claimed_at, :nowIso), expires_at = :expires, item_type = :type',
          ConditionExpression: 'attribute_not_exists(pk) OR (#state = :working AND lease_until < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':working': 'working',
            ':owner': owner,
            ':until': now + this.leaseMs,
            ':now': now,
            ':zero': 0,
            ':one': 1,
            ':nowIso': new Date(now).toISOString(),
            ':expires': expiresAfterHours(CLAIM_RETENTION_HOURS, new Date(now)),
            ':type': 'claim',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const plan = Attributes?.reply_plan as string[] | undefined;
      const contactUpdates = Attributes?.contact_updates as ContactUpdates | undefined;
      return {
        outcome: 'claimed',
        ...(plan ? { plan } : {}),
        ...(contactUpdates ? { contactUpdates } : {}),
        sent: Number(Attributes?.sent_count ?? 0),
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: claimKeys.claim(tenantId, messageId),
          ConsistentRead: true,
        }),
      );
      if (Item?.state === 'working') return { outcome: 'busy', leaseUntil: Number(Item.lease_until) };
      return { outcome: 'done' };
    }
  }

  private async guarded(
    tenantId: string,
    messageId: string,
    owner: string,
    update: string,
    values: Record<string, unknown>,
  ) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKeys.claim(tenantId, messageId),
          UpdateExpression: update,
          ConditionExpression: 'lease_owner = :owner AND #state = :working',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':working': 'working', ...values },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new LostClaimError(messageId);
      throw error;
    }
  }

  /** Stores the replies about to be sent and the contact changes they imply (before any send). */
  savePlan(
    tenantId: string,
    messageId: string,
    owner: string,
    plan: string[],
    contactUpdates: ContactUpdates,
  ) {
    return this.guarded(
      tenantId,
      messageId,
      owner,
      'SET reply_plan = :plan, contact_updates = :updates, sent_count = :zero',
      { ':plan': plan, ':updates': contactUpdates, ':zero': 0 },
    );
  }

  /** Records that the first `sent` planned replies went out; also extends the lease. */
  markSent(tenantId: string, messageId: string, owner: string, sent: number, now: number) {
    return this.guarded(tenantId, messageId, owner, 'SET sent_count = :sent, lease_until = :until', {
      ':sent': sent,
      ':until': now + this.leaseMs,
    });
  }

  /** The message is handled for good (answered, or deliberately not answered). */
  async complete(tenantId: string, messageId: string, owner: string, outcome: string): Promise<boolean> {
    return this.guarded(
      tenantId,
      messageId,
      owner,
      'SET #state = :done, claim_outcome = :outcome, completed_at = :at REMOVE lease_until, reply_plan, contact_updates',
      {
        ':done': 'done',
        ':outcome': outcome,
        ':at': new Date().toISOString(),
      },
    ).then(
      () => true,
      (error: unknown) => {
        if (error instanceof LostClaimError) return false;
        throw error;
      },
    );
  }

  /** Gives the message back (a retryable failure): the next delivery may claim it at once. */
  async release(tenantId: string, messageId: string, owner: string) {
    // Best effort: if it fails, the lease simply runs out and the redelivery waits for that.
    await this.guarded(tenantId, messageId, owner, 'SET lease_until = :zero', { ':zero': 0 }).catch(
      () => undefined,
    );
  }
}
