import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { expiresAfterHours, isConditionFailure } from '../storage/table.ts';
import type { ContactRef } from './inbound-event.ts';
import { contactAliasKeys, contactKeys } from './keys.ts';

/**
 * One customer, one contact. Meta names a customer by phone (`wa_id`) and, since 2026, by a
 * business-scoped user id, and may give either or both: a customer first seen by phone can write
 * later with only a user id (they took a username), or the reverse. The contact key is the first id
 * we saw; an alias item per id (`ALIAS#wa#…`, `ALIAS#uid#…`) points every id we ever saw together
 * at that key, so one conversation, one OpenAI conversation, one welcome and one retention clock
 * follow the customer whichever ids a message carries.
 *
 * Two user ids are two customers: a phone alias remembers the user id it was seen with, and a
 * message that brings the phone with another user id (the number changed hands) starts a contact of
 * its own and takes the phone over, so the new owner never sees the old one's conversation.
 */

type Item = Record<string, unknown>;

/**
 * The contact this reference names: `ref` with `key` replaced by the key the customer already has
 * (found through an alias of its ids, or a contact stored before aliases existed under one of
 * them), else its own key; the ids it carries are then recorded as aliases of that key. The aliases
 * a message brings are created together in one transaction: when two first messages of a customer
 * race (they travel in different FIFO groups when they name it differently), one transaction wins
 * and the other resolves again, to the winner's key.
 */
export async function resolveContact(
  db: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
  ref: ContactRef,
  at: Date,
  retentionHours: number,
  aliasTtlHours: number,
  retried = false,
): Promise<ContactRef> {
  if (!ref.user_id && !ref.wa_id) return ref;
  const keys = {
    uidAlias: ref.user_id ? contactAliasKeys.alias(tenantId, 'uid', ref.user_id) : undefined,
    waAlias: ref.wa_id ? contactAliasKeys.alias(tenantId, 'wa', ref.wa_id) : undefined,
    // Contacts stored before aliases existed are keyed by one of the ids: they count as aliases.
    uidContact: ref.user_id ? contactKeys.contact(tenantId, ref.user_id) : undefined,
    waContact: ref.wa_id ? contactKeys.contact(tenantId, ref.wa_id) : undefined,
  };
  const found = await readItems(db, tableName, Object.values(keys));
  const itemAt = (key: { pk: string; sk: string } | undefined) =>
    key ? found.get(`${key.pk}|${key.sk}`) : undefined;
  const uidAlias = itemAt(keys.uidAlias);
  const waAlias = itemAt(keys.waAlias);
  // The phone names this customer unless it was seen with another user id.
  const samePerson = (item: Item | undefined) =>
    item !== undefined && (!ref.user_id || item.user_id === undefined || item.user_id === ref.user_id);
  const key =
    (uidAlias?.contact_key as string | undefined) ??
    (itemAt(keys.uidContact) ? ref.user_id : undefined) ??
    (samePerson(waAlias) ? (waAlias?.contact_key as string) : undefined) ??
    (samePerson(itemAt(keys.waContact)) ? ref.wa_id : undefined) ??
    ref.key;

  const expires = expiresAfterHours(retentionHours + aliasTtlHours, at);
  const wanted = (kind: 'uid' | 'wa'): Item => ({
    item_type: 'contact_alias',
    contact_key: key,
    // A phone remembers whose it is, so that another user id bringing it is told apart.
    ...(kind === 'wa' && ref.user_id ? { user_id: ref.user_id } : {}),
    expires_at: expires,
  });
  const aliases = [
    ...(keys.uidAlias ? [{ key: keys.uidAlias, stored: uidAlias, item: wanted('uid') }] : []),
    ...(keys.waAlias ? [{ key: keys.waAlias, stored: waAlias, item: wanted('wa') }] : []),
  ];
  const missing = aliases.filter((alias) => alias.stored === undefined);
  if (missing.length > 0 && !(await createAll(db, tableName, missing))) {
    // Another first message of this customer named it meanwhile: its key wins.
    if (!retried)
      return resolveContact(db, tableName, tenantId, ref, at, retentionHours, aliasTtlHours, true);
  }
  for (const { key: aliasKey, stored, item } of aliases) {
    if (!stored) continue;
    // Rewritten when it names another contact (the number changed hands, or an old split heals to
    // the user id's contact), when it learns its user id, and when it would expire a day before the
    // contact: an alias must not outlive the contact's data for long, nor die before it.
    const stale =
      stored.contact_key !== key ||
      stored.user_id !== item.user_id ||
      Number(stored.expires_at) < expires - 24 * 3600;
    if (stale) await replaceIfUnchanged(db, tableName, aliasKey, stored, item);
  }
  return key === ref.key ? ref : { ...ref, key };
}

async function readItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: ({ pk: string; sk: string } | undefined)[],
) {
  const { Responses } = await db.send(
    new BatchGetCommand({
      RequestItems: {
        [tableName]: {
          Keys: keys.filter((key) => key !== undefined),
          ProjectionExpression: 'pk, sk, contact_key, user_id, expires_at',
          ConsistentRead: true,
        },
      },
    }),
  );
  return new Map((Responses?.[tableName] ?? []).map((item) => [`${item.pk}|${item.sk}`, item as Item]));
}

/** Creates every alias or none; false when one of them exists already (another message won). */
async function createAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  aliases: { key: { pk: string; sk: string }; item: Item }[],
): Promise<boolean> {
  try {
    const [only] = aliases;
    if (aliases.length === 1 && only) {
      // One alone needs no transaction (which costs twice the writes).
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...only.key, ...only.item },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    }
    await db.send(
      new TransactWriteCommand({
        TransactItems: aliases.map(({ key, item }) => ({
          Put: {
            TableName: tableName,
            Item: { ...key, ...item },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        })),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Rewrites an alias only while it still names what was read: a concurrent change is not undone. */
async function replaceIfUnchanged(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: { pk: string; sk: string },
  stored: Item,
  item: Item,
): Promise<void> {
  try {
    await db.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...key, ...item },
        ConditionExpression: 'contact_key = :read',
        ExpressionAttributeValues: { ':read': stored.contact_key },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
