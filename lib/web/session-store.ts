import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { secretsMatch } from '../secrets/constant-time.ts';
import { isStorableKey, tableDesign } from '../storage/table.ts';
import { randomBase62 } from '../tenants/tenant-tokens.ts';

/**
 * Browser sessions of the web pages. The cookie holds a random session id (190 bits), never a key;
 * the table holds only its SHA-256, who it speaks for, and the CSRF token the pages send back in a
 * header on every state-changing request. A tenant session is bound to the API key that opened it
 * (revoking the key ends it); an operator session to a fingerprint of the operator key (rotating the
 * key ends every operator session). Sessions end after SESSION_LIFETIME_MS whatever happens.
 */

export const SESSION_COOKIE = 'wa_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_LIFETIME_MS = 12 * 3600 * 1000;
const SESSION_ID_LENGTH = 32;

export type SessionPrincipal = { kind: 'operator' } | { kind: 'tenant'; tenantId: string; keyId: string };

export interface StoredSession {
  principal: SessionPrincipal;
  csrfToken: string;
  /** The operator key's fingerprint when it was opened (operator sessions). */
  operatorKeyHash?: string;
  createdAt: string;
  expiresAt: string;
}

export interface OpenedSession {
  /** Goes in the cookie only. */
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/** The fingerprint an operator session remembers of the key that opened it. */
export const operatorKeyFingerprint = (operatorKey: string) => sha256(`operator-session:${operatorKey}`);

export const sessionKeys = {
  session: (sessionIdHash: string) => ({ pk: `SESSION#${sessionIdHash}`, sk: 'SESSION' }),
};

const SESSION_ID_PATTERN = new RegExp(`^[0-9A-Za-z]{${SESSION_ID_LENGTH}}$`);

export class SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async open(
    principal: SessionPrincipal,
    options: { operatorKey?: string; now?: Date } = {},
  ): Promise<OpenedSession> {
    const now = options.now ?? new Date();
    const sessionId = randomBase62(SESSION_ID_LENGTH);
    const csrfToken = randomBase62(SESSION_ID_LENGTH);
    const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS).toISOString();
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...sessionKeys.session(sha256(sessionId)),
          item_type: 'web_session',
          kind: principal.kind,
          ...(principal.kind === 'tenant' ? { tenant_id: principal.tenantId, key_id: principal.keyId } : {}),
          ...(options.operatorKey ? { operator_key_hash: operatorKeyFingerprint(options.operatorKey) } : {}),
          csrf_token: csrfToken,
          created_at: now.toISOString(),
          valid_until: expiresAt,
          [tableDesign.ttlAttribute]: Math.ceil(Date.parse(expiresAt) / 1000),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { sessionId, csrfToken, expiresAt };
  }

  /** The live session a cookie names, or undefined (malformed, unknown, ended or expired). */
  async find(sessionId: unknown, now: Date = new Date()): Promise<StoredSession | undefined> {
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) return undefined;
    const key = sessionKeys.session(sha256(sessionId));
    if (!isStorableKey(key)) return undefined;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item || typeof Item.valid_until !== 'string' || Item.valid_until <= now.toISOString())
      return undefined;
    const principal: SessionPrincipal | undefined =
      Item.kind === 'operator'
        ? { kind: 'operator' }
        : Item.kind === 'tenant' && typeof Item.tenant_id === 'string' && typeof Item.key_id === 'string'
          ? { kind: 'tenant', tenantId: Item.tenant_id, keyId: Item.key_id }
          : undefined;
    if (!principal || typeof Item.csrf_token !== 'string') return undefined;
    return {
      principal,
      csrfToken: Item.csrf_token,
      ...(typeof Item.operator_key_hash === 'string' ? { operatorKeyHash: Item.operator_key_hash } : {}),
      createdAt: String(Item.created_at),
      expiresAt: Item.valid_until,
    };
  }

  async end(sessionId: unknown): Promise<void> {
    if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) return;
    await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: sessionKeys.session(sha256(sessionId)) }),
    );
  }
}

/** Whether a request's CSRF header matches its session's token (constant time). */
export function csrfMatches(session: StoredSession, presented: string | undefined): boolean {
  return typeof presented === 'string' && presented.length > 0 && secretsMatch(presented, session.csrfToken);
}
