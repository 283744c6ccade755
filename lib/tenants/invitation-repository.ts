import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { clipped, NotFoundError } from '../errors.ts';
import { isConditionFailure, isStorableKey, tableDesign } from '../storage/table.ts';
import { cancellationCodes, retryOnTransactionConflict } from '../storage/transactions.ts';
import { clientKeys } from './client.ts';
import {
  generateInvitationToken,
  hashToken,
  parseInvitationToken,
  tokenMatchesHash,
} from './tenant-tokens.ts';

/**
 * Invitation tokens (`wti_<id>_<secret>`): what an operator sends a tenant's owner to exchange for
 * the tenant's first API key. Single use, valid for seven days, stored only as a SHA-256. A tenant
 * has at most one pending invitation: issuing another voids the previous one.
 *
 * Two items per tenant:
 * - `CLIENT#<tenant>` / `INVITATION`: which invitation is the tenant's current one;
 * - `INVITATION#<id>` / `INVITATION`: the lookup a redemption reads (tenant id, hash, status
 *   `pending` → `used`, valid_until), deleted by DynamoDB's TTL after it expires.
 *
 * Issuing replaces the pointer only while it still names the invitation read a moment before, and
 * deletes that invitation's lookup in the same transaction, so no two invitations of a tenant are
 * ever redeemable together. Redeeming is one conditional update from `pending` to `used`: of any
 * number of concurrent redemptions exactly one succeeds.
 */

export const INVITATION_VALIDITY_MS = 7 * 24 * 3600 * 1000;
/** Attempts of an issue that lost to a concurrent issue of the same tenant (or hit a taken id). */
const ISSUE_ATTEMPTS = 5;

const tenantPartition = (tenantId: string) => clientKeys.profile(tenantId).pk;
const INVITATION = 'INVITATION';

export const invitationKeys = {
  /** The tenant's current invitation. */
  current: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: INVITATION }),
  lookup: (invitationId: string) => ({ pk: `${INVITATION}#${invitationId}`, sk: INVITATION }),
};

/** A new invitation: the only time `token` itself is seen. */
export interface IssuedInvitation {
  invitation_id: string;
  token: string;
  created_at: string;
  /** The token is refused from this instant on. */
  valid_until: string;
}

export class InvitationRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * A new invitation for an existing, active tenant, voiding the tenant's previous one (used or
   * not). NotFoundError when there is no such active tenant.
   */
  async issueInvitation(tenantId: string, now: Date = new Date()): Promise<IssuedInvitation> {
    const notFound = new NotFoundError(`client ${clipped(tenantId)} not found`);
    if (!isStorableKey(clientKeys.profile(tenantId))) throw notFound;
    for (let attempt = 1; ; attempt++) {
      const previous = await this.currentInvitationId(tenantId);
      const { invitation_id, token } = generateInvitationToken();
      const issued: IssuedInvitation = {
        invitation_id,
        token,
        created_at: now.toISOString(),
        valid_until: new Date(now.getTime() + INVITATION_VALIDITY_MS).toISOString(),
      };
      try {
        await retryOnTransactionConflict('issuing an invitation', () =>
          this.writeInvitation(tenantId, issued, previous),
        );
        return issued;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') throw notFound;
        // Another issue replaced the pointer since we read it, or the fresh id was taken: again.
        const raced = codes?.[1] === 'ConditionalCheckFailed' || codes?.[2] === 'ConditionalCheckFailed';
        if (raced && attempt < ISSUE_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  private async currentInvitationId(tenantId: string): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: invitationKeys.current(tenantId),
        ProjectionExpression: 'invitation_id',
        ConsistentRead: true,
      }),
    );
    return typeof Item?.invitation_id === 'string' ? Item.invitation_id : undefined;
  }

  private async writeInvitation(
    tenantId: string,
    invitation: IssuedInvitation,
    previousId: string | undefined,
  ): Promise<void> {
    const TableName = this.tableName;
    const validUntilSeconds = Math.ceil(Date.parse(invitation.valid_until) / 1000);
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName,
              Key: clientKeys.profile(tenantId),
              ConditionExpression: 'attribute_exists(pk) AND active = :true',
              ExpressionAttributeValues: { ':true': true },
            },
          },
          {
            Put: {
              TableName,
              Item: {
                ...invitationKeys.current(tenantId),
                item_type: 'invitation_pointer',
                invitation_id: invitation.invitation_id,
                created_at: invitation.created_at,
                valid_until: invitation.valid_until,
              },
              ...(previousId === undefined
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : {
                    ConditionExpression: 'invitation_id = :previous',
                    ExpressionAttributeValues: { ':previous': previousId },
                  }),
            },
          },
          {
            Put: {
              TableName,
              Item: {
                ...invitationKeys.lookup(invitation.invitation_id),
                item_type: 'invitation',
                tenant_id: tenantId,
                invitation_id: invitation.invitation_id,
                secret_hash: hashToken(invitation.token),
                status: 'pending',
                created_at: invitation.created_at,
                valid_until: invitation.valid_until,
                [tableDesign.ttlAttribute]: validUntilSeconds,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          // Voids the previous invitation (a no-op when it was already deleted by its TTL).
          ...(previousId === undefined
            ? []
            : [{ Delete: { TableName, Key: invitationKeys.lookup(previousId) } }]),
        ],
      }),
    );
  }

  /**
   * The tenant an invitation token was issued for, marking it used; undefined for anything else:
   * malformed, never issued, voided, already used or expired (one answer for all). A well-formed
   * token costs one GetItem, one hash and one constant-time comparison whether or not it exists.
   */
  async redeemInvitation(presented: unknown, now: Date = new Date()): Promise<string | undefined> {
    const parsed = parseInvitationToken(presented);
    if (!parsed) return undefined;
    const key = invitationKeys.lookup(parsed.invitation_id);
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const storedHash = typeof Item?.secret_hash === 'string' ? Item.secret_hash : undefined;
    const matches = tokenMatchesHash(parsed.token, storedHash);
    const nowIso = now.toISOString();
    if (
      !matches ||
      Item?.status !== 'pending' ||
      typeof Item.tenant_id !== 'string' ||
      typeof Item.valid_until !== 'string' ||
      Item.valid_until <= nowIso
    ) {
      return undefined;
    }
    try {
      await retryOnTransactionConflict('redeeming an invitation', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET #status = :used, used_at = :now',
            // The hash too: should the id have been voided and reused meanwhile, this is not that token.
            ConditionExpression: '#status = :pending AND secret_hash = :hash AND valid_until > :now',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':used': 'used',
              ':pending': 'pending',
              ':hash': storedHash,
              ':now': nowIso,
            },
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) return undefined; // redeemed, voided or expired meanwhile
      throw error;
    }
    return Item.tenant_id;
  }

  /**
   * Gives a redeemed invitation back (`used` → `pending`), when what it was redeemed for could not be
   * done (the first key was refused): the holder may try again while it is valid. Only the token
   * that redeemed it can, and only while it is still the used one.
   */
  async releaseInvitation(presented: unknown): Promise<void> {
    const parsed = parseInvitationToken(presented);
    if (!parsed) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: invitationKeys.lookup(parsed.invitation_id),
          UpdateExpression: 'SET #status = :pending REMOVE used_at',
          ConditionExpression: '#status = :used AND secret_hash = :hash',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':used': 'used',
            ':hash': hashToken(parsed.token),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // voided meanwhile: nothing to give back
    }
  }
}
