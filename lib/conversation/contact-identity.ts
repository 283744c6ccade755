import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
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
 */

/** The ids of a contact reference that can name it, strongest first (a user id outlives a number). */
function idsOf(ref: Pick<ContactRef, 'user_id' | 'wa_id'>) {
  return [
    ...(ref.user_id ? [{ kind: 'uid' as const, id: ref.user_id }] : []),
    ...(ref.wa_id ? [{ kind: 'wa' as const, id: ref.wa_id }] : []),
  ];
}

/**
 * The contact this reference names: `ref` with `key` replaced by the key the customer already has
 * (found through an alias of any of its ids, or a contact stored before aliases existed under one
 * of them), else its own key; the ids it carries are then recorded as aliases of that key. A race
 * between two first messages naming the customer differently is settled by the conditional write:
 * the alias written first wins and both end on one contact.
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
  const ids = idsOf(ref);
  if (ids.length === 0) return ref;
  const aliasKeys = ids.map(({ kind, id }) => contactAliasKeys.alias(tenantId, kind, id));
  // Contacts stored before aliases existed are keyed by one of the ids: they count as their aliases.
  const legacyKeys = ids.map(({ id }) => contactKeys.contact(tenantId, id));
  const { Responses } = await db.send(
    new BatchGetCommand({
      RequestItems: {
        [tableName]: {
          Keys: [...aliasKeys, ...legacyKeys],
          ProjectionExpression: 'pk, sk, contact_key, expires_at',
          ConsistentRead: true,
        },
      },
    }),
  );
  const found = new Map((Responses?.[tableName] ?? []).map((item) => [`${item.pk}|${item.sk}`, item]));
  const itemAt = (key: { pk: string; sk: string }) => found.get(`${key.pk}|${key.sk}`);
  const aliased = aliasKeys.map((key) => itemAt(key)?.contact_key as string | undefined);
  const legacy = ids.find((_, index) => itemAt(legacyKeys[index]!) !== undefined)?.id;
  const key = aliased.find((value) => value !== undefined) ?? legacy ?? ref.key;

  const expires = expiresAfterHours(retentionHours + aliasTtlHours, at);
  for (const aliasKey of aliasKeys) {
    const alias = itemAt(aliasKey);
    // An id already naming another contact keeps it (two contacts made before they were seen
    // together, or a lost race): the strongest id's contact answers.
    if (alias && alias.contact_key !== key) continue;
    // Kept alive with the contact (rewritten once it would expire a day before it): an alias must
    // not outlive the contact's data for long, nor die before it.
    if (alias && Number(alias.expires_at) >= expires - 24 * 3600) continue;
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...aliasKey, item_type: 'contact_alias', contact_key: key, expires_at: expires },
          ConditionExpression: alias ? 'contact_key = :key' : 'attribute_not_exists(pk)',
          ...(alias ? { ExpressionAttributeValues: { ':key': key } } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Another first message of this customer named it meanwhile: resolve again, once, to its key.
      if (!retried) {
        return resolveContact(db, tableName, tenantId, ref, at, retentionHours, aliasTtlHours, true);
      }
    }
  }
  return key === ref.key ? ref : { ...ref, key };
}
