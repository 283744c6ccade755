import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/**
 * The one DynamoDB table. Every tenant-owned item has the tenant id as the first segment of its
 * partition key; entities own their keys (see each repository). The CDK stack and the local stack
 * both build the table from this definition.
 */
export const tableDesign = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Items listed across tenants (the operator's client list). */
  listIndex: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Epoch seconds; DynamoDB TTL deletes the item some time after it. */
  ttlAttribute: 'expires_at',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, listIndex } = tableDesign;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
      { AttributeName: listIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: listIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: listIndex.name,
        KeySchema: [
          { AttributeName: listIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: listIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Creates the table when missing (local stack and tests; AWS tables come from the CDK). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: tableDesign.ttlAttribute, Enabled: true },
      }),
    )
    .catch(() => undefined); // already enabled
}

/** Epoch seconds `hours` from `now`, for the TTL attribute. */
export function expiresAfterHours(hours: number, now: Date = new Date()): number {
  return Math.floor(now.getTime() / 1000 + hours * 3600);
}

/**
 * DynamoDB's own limits, in UTF-8 bytes (not characters): a key or item beyond them is refused with
 * a ValidationException, so inputs are checked against them first and answered with a 4xx.
 */
export const dynamoLimits = {
  partitionKeyBytes: 2048,
  sortKeyBytes: 1024,
  itemBytes: 400 * 1024,
} as const;

const utf8Length = (value: string) => Buffer.byteLength(value, 'utf8');

/** Whether DynamoDB could store an item under this key; a key that cannot be stored names no item. */
export function isStorableKey(key: { pk: string; sk?: string }): boolean {
  return (
    utf8Length(key.pk) <= dynamoLimits.partitionKeyBytes &&
    (key.sk === undefined || utf8Length(key.sk) <= dynamoLimits.sortKeyBytes)
  );
}

/**
 * An upper bound of an item's size as DynamoDB counts it: attribute names plus values, strings in
 * UTF-8, numbers by their digits, 3 bytes per list or map plus 1 per element. Slightly generous, so
 * an item that passes is never refused.
 */
export function itemSizeBytes(value: unknown): number {
  if (value === undefined || value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Length(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value).length + 1;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value))
    return value.reduce<number>((sum, element) => sum + 1 + itemSizeBytes(element), 3);
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element !== undefined) size += 1 + utf8Length(name) + itemSizeBytes(element);
    }
    return size;
  }
  return utf8Length(String(value));
}

/**
 * Pagination cursors: a LastEvaluatedKey sealed with AES-256-GCM, base64url. Sealed, a cursor shows
 * nothing of the keys (tenant ids, contacts) and cannot be forged or altered: anything that does not
 * open is no cursor (decodeCursor answers undefined; the list answers 400).
 *
 * The key is derived from a secret every instance shares ({@link useCursorSecret}; the admin API
 * passes its operator key, which whoever could forge a cursor already holds). Until one is given it
 * is random per process: cursors then only work on the instance that made them.
 */
const CURSOR_VERSION = 1;
const CURSOR_AAD = Buffer.from('wa-assistant pagination cursor v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

let cursorKey: Buffer = randomBytes(32);
let cursorSecretFingerprint: string | undefined;

/** Derives the cursor key from `secret` (HKDF-SHA256, so the key reveals nothing of the secret). */
export function useCursorSecret(secret: string): void {
  const fingerprint = createHash('sha256').update(secret).digest('base64url');
  if (fingerprint === cursorSecretFingerprint) return;
  cursorKey = Buffer.from(hkdfSync('sha256', secret, 'wa-assistant', 'pagination-cursor-v1', 32));
  cursorSecretFingerprint = fingerprint;
}

export function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  if (!key) return null;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', cursorKey, iv);
  cipher.setAAD(CURSOR_AAD);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(key), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([CURSOR_VERSION]), iv, cipher.getAuthTag(), sealed]).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  const raw = Buffer.from(cursor, 'base64url');
  // Node's decoder skips what is not base64url: only the exact encoding we produced is a cursor.
  if (raw.toString('base64url') !== cursor) return undefined;
  if (raw.length <= 1 + IV_BYTES + TAG_BYTES || raw[0] !== CURSOR_VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', cursorKey, raw.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(CURSOR_AAD);
    decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    const value: unknown = JSON.parse(plain.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not sealed by us (forged, altered, truncated or sealed under another key)
  }
  return undefined;
}

/** A conditional write (or a transaction item's condition) did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof TransactionCanceledException &&
      (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed'))
  );
}

/** Every page of a query, following LastEvaluatedKey (stop early by leaving the loop). */
export async function* queryPages(
  db: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<QueryCommandOutput> {
  let start = input.ExclusiveStartKey;
  do {
    const page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}
