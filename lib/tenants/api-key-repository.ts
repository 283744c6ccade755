import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, clipped, NotFoundError } from '../errors.ts';
import { logger } from '../logger.ts';
import { isConditionFailure, isStorableKey, queryPages } from '../storage/table.ts';
import { cancellationCodes, retryOnTransactionConflict } from '../storage/transactions.ts';
import { clientKeys } from './client.ts';
import {
  generateApiKey,
  hashToken,
  isTokenId,
  type KeyEnvironment,
  parseApiKey,
  tokenMatchesHash,
} from './tenant-tokens.ts';

/**
 * Tenant API keys in DynamoDB. A key is three items, written and removed together in one transaction:
 *
 * - `CLIENT#<tenant>` / `APIKEY#<keyId>`: the key as its tenant sees it (prefix, created_at), in the
 *   tenant's own partition, so listing is one query and a tenant reaches only its own keys;
 * - `APIKEY#<keyId>` / `APIKEY`: the lookup that authentication reads in one GetItem (tenant id,
 *   SHA-256 of the key, status, last_used_at);
 * - `CLIENT#<tenant>` / `APIKEYRING`: the count of the tenant's active keys. Every creation raises it
 *   under the condition `active_keys < 2` in the same transaction, so concurrent creations cannot
 *   exceed two active keys (two, to overlap a rotation).
 *
 * Revoking deletes the key's items (the lookup first among them), so a revoked key fails the very
 * next authentication (the lookup is read strongly consistent).
 */

/** Active keys a tenant may hold at once: the old and the new one during a rotation. */
export const MAX_ACTIVE_API_KEYS = 2;
/** last_used_at is written at most once per key per this period (it is informative, not an audit). */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** Attempts of a creation whose fresh key id happened to be taken already (62^10 ids: ~never). */
const ID_COLLISION_ATTEMPTS = 3;

const tenantPartition = (tenantId: string) => clientKeys.profile(tenantId).pk;
const KEY = 'APIKEY#';

export const apiKeyKeys = {
  key: (tenantId: string, keyId: string) => ({ pk: tenantPartition(tenantId), sk: `${KEY}${keyId}` }),
  /** The query for every key of a tenant. */
  keysOf: (tenantId: string) => ({ pk: tenantPartition(tenantId), skPrefix: KEY }),
  keyring: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'APIKEYRING' }),
  lookup: (keyId: string) => ({ pk: `${KEY}${keyId}`, sk: 'APIKEY' }),
};

/** A new key: the only time `api_key` itself is seen. */
export interface CreatedApiKey {
  key_id: string;
  api_key: string;
  prefix: string;
  created_at: string;
}

/** A key as listed: no secret and no hash. */
export interface ApiKeySummary {
  key_id: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

/** Who an authenticated key speaks for. */
export interface ApiKeyPrincipal {
  tenantId: string;
  keyId: string;
}

export class ApiKeyRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { environment?: KeyEnvironment } = {},
  ) {}

  /**
   * A new key for an existing, active tenant. ConflictError when the tenant already has
   * MAX_ACTIVE_API_KEYS active keys; NotFoundError when there is no such active tenant.
   */
  async createApiKey(tenantId: string, now: Date = new Date()): Promise<CreatedApiKey> {
    if (!isStorableKey(clientKeys.profile(tenantId))) throw this.tenantNotFound(tenantId);
    for (let attempt = 1; ; attempt++) {
      const generated = generateApiKey(this.options.environment ?? 'live');
      const created: CreatedApiKey = {
        key_id: generated.key_id,
        api_key: generated.api_key,
        prefix: generated.prefix,
        created_at: now.toISOString(),
      };
      try {
        await retryOnTransactionConflict('creating an API key', () => this.writeNewKey(tenantId, created));
        return created;
      } catch (error) {
        const codes = cancellationCodes(error);
        const failed = (index: number) => codes?.[index] === 'ConditionalCheckFailed';
        if (failed(0)) throw this.tenantNotFound(tenantId);
        if (failed(1)) {
          throw new ConflictError(
            `the client already has ${MAX_ACTIVE_API_KEYS} active API keys: revoke one before creating another`,
          );
        }
        if ((failed(2) || failed(3)) && attempt < ID_COLLISION_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  private async writeNewKey(tenantId: string, key: CreatedApiKey): Promise<void> {
    const TableName = this.tableName;
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
            Update: {
              TableName,
              Key: apiKeyKeys.keyring(tenantId),
              UpdateExpression:
                'SET active_keys = if_not_exists(active_keys, :zero) + :one, item_type = :type',
              ConditionExpression: 'attribute_not_exists(active_keys) OR active_keys < :max',
              ExpressionAttributeValues: {
                ':zero': 0,
                ':one': 1,
                ':max': MAX_ACTIVE_API_KEYS,
                ':type': 'api_keyring',
              },
            },
          },
          {
            Put: {
              TableName,
              Item: {
                ...apiKeyKeys.key(tenantId, key.key_id),
                item_type: 'api_key',
                key_id: key.key_id,
                prefix: key.prefix,
                created_at: key.created_at,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName,
              Item: {
                ...apiKeyKeys.lookup(key.key_id),
                item_type: 'api_key_lookup',
                tenant_id: tenantId,
                key_id: key.key_id,
                prefix: key.prefix,
                secret_hash: hashToken(key.api_key),
                status: 'active',
                created_at: key.created_at,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
  }

  /** The tenant's active keys, oldest first; never the secret or its hash. */
  async listApiKeys(tenantId: string): Promise<ApiKeySummary[]> {
    const { pk, skPrefix } = apiKeyKeys.keysOf(tenantId);
    if (!isStorableKey({ pk })) return [];
    const keys: Array<{ key_id: string; prefix: string; created_at: string }> = [];
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
      ProjectionExpression: 'key_id, prefix, created_at',
      ConsistentRead: true,
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        keys.push({
          key_id: String(item.key_id),
          prefix: String(item.prefix),
          created_at: String(item.created_at),
        });
      }
    }
    // At most MAX_ACTIVE_API_KEYS items: one GetItem each for the time of last use.
    const summaries = await Promise.all(
      keys.map(async (key) => {
        const { Item } = await this.db.send(
          new GetCommand({
            TableName: this.tableName,
            Key: apiKeyKeys.lookup(key.key_id),
            ProjectionExpression: 'last_used_at',
          }),
        );
        const lastUsed = Item?.last_used_at;
        return { ...key, last_used_at: typeof lastUsed === 'string' ? lastUsed : null };
      }),
    );
    return summaries.sort(
      (a, b) => a.created_at.localeCompare(b.created_at) || a.key_id.localeCompare(b.key_id),
    );
  }

  /**
   * Revokes one of the tenant's keys: it stops working at once. NotFoundError when the tenant has no
   * such key (including every key of another tenant).
   */
  async revokeApiKey(tenantId: string, keyId: string): Promise<void> {
    const notFound = new NotFoundError(`API key ${clipped(keyId)} not found`);
    if (!isTokenId(keyId) || !isStorableKey(clientKeys.profile(tenantId))) throw notFound;
    const TableName = this.tableName;
    try {
      await retryOnTransactionConflict('revoking an API key', () =>
        this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName,
                  Key: apiKeyKeys.key(tenantId, keyId),
                  ConditionExpression: 'attribute_exists(pk)',
                },
              },
              {
                Delete: {
                  TableName,
                  Key: apiKeyKeys.lookup(keyId),
                  ConditionExpression: 'tenant_id = :tenant',
                  ExpressionAttributeValues: { ':tenant': tenantId },
                },
              },
              {
                Update: {
                  TableName,
                  Key: apiKeyKeys.keyring(tenantId),
                  UpdateExpression: 'SET active_keys = active_keys - :one',
                  ConditionExpression: 'active_keys > :zero',
                  ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
                },
              },
            ],
          }),
        ),
      );
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed' || codes?.[1] === 'ConditionalCheckFailed') throw notFound;
      throw error;
    }
  }

  /**
   * Revokes every key of a tenant (for its deletion: the lookups live outside the tenant's
   * partition, so deleting the partition alone would leave them). Answers how many were revoked.
   */
  async revokeAllApiKeys(tenantId: string): Promise<number> {
    let revoked = 0;
    for (const key of await this.listApiKeys(tenantId)) {
      try {
        await this.revokeApiKey(tenantId, key.key_id);
        revoked++;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error; // revoked meanwhile
      }
    }
    return revoked;
  }

  /**
   * The tenant and key a presented API key speaks for, or undefined for anything else: malformed,
   * unknown, revoked or wrong (one answer for all). A well-formed key costs one GetItem, one hash and
   * one constant-time comparison whether or not its id exists. Records last_used_at (throttled).
   */
  async authenticate(presented: unknown, now: Date = new Date()): Promise<ApiKeyPrincipal | undefined> {
    const parsed = parseApiKey(presented);
    if (!parsed) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: apiKeyKeys.lookup(parsed.key_id),
        // Strongly consistent: a key revoked a moment ago must fail now.
        ConsistentRead: true,
      }),
    );
    const storedHash = typeof Item?.secret_hash === 'string' ? Item.secret_hash : undefined;
    const matches = tokenMatchesHash(parsed.token, storedHash);
    if (!matches || Item?.status !== 'active' || typeof Item.tenant_id !== 'string') return undefined;
    await this.recordUse(parsed.key_id, Item.last_used_at, now);
    return { tenantId: Item.tenant_id, keyId: parsed.key_id };
  }

  /**
   * Whether a key (by id) is still an active key of this tenant: what a browser session opened with
   * it re-checks on every request, so revoking the key ends the session too.
   */
  async isActiveKey(tenantId: string, keyId: string): Promise<boolean> {
    if (!isTokenId(keyId)) return false;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: apiKeyKeys.lookup(keyId),
        ProjectionExpression: 'tenant_id, #status',
        ExpressionAttributeNames: { '#status': 'status' },
        ConsistentRead: true,
      }),
    );
    return Item?.tenant_id === tenantId && Item?.status === 'active';
  }

  /**
   * Sets last_used_at unless it was set within LAST_USED_RESOLUTION_MS: skipped without a write when
   * the item read says so, and conditional so concurrent requests write it once. A failure to record
   * it does not fail the request it belongs to.
   */
  private async recordUse(keyId: string, lastUsedAt: unknown, now: Date): Promise<void> {
    const recent =
      typeof lastUsedAt === 'string' && now.getTime() - Date.parse(lastUsedAt) < LAST_USED_RESOLUTION_MS;
    if (recent) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: apiKeyKeys.lookup(keyId),
          UpdateExpression: 'SET last_used_at = :now',
          ConditionExpression:
            'attribute_exists(pk) AND #status = :active AND (attribute_not_exists(last_used_at) OR last_used_at < :since)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': now.toISOString(),
            ':active': 'active',
            ':since': new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString(),
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return; // another request recorded it, or the key was just revoked
      logger.warn('could not record the last use of an API key', {
        keyId,
        error: (error as Error)?.name ?? String(error),
      });
    }
  }

  private tenantNotFound(tenantId: string): NotFoundError {
    return new NotFoundError(`client ${clipped(tenantId)} not found, or deactivated (reactivate it first)`);
  }
}
