import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../storage/table.ts';
import { type KeyPrefix, queryByPrefix } from './keys.ts';
import type { Contact, StoredMessage } from './ports.ts';

/** How the conversation's items read as contacts and messages, and one page of a list of them. */

const CONTACT_FIELDS = [
  'contact_key',
  'wa_id',
  'user_id',
  'name',
  'first_seen_at',
  'last_activity_at',
  'last_inbound_at',
  'last_customer_message_at',
  'bot_paused',
  'welcomed_at',
  'openai_conversation_id',
  'window_closed_at',
  'handoff_until',
  'handoff_by',
] as const;

export function toContact(item: Record<string, unknown>): Contact {
  const contact: Record<string, unknown> = {};
  for (const field of CONTACT_FIELDS) if (item[field] !== undefined) contact[field] = item[field];
  contact.bot_paused = item.bot_paused === true;
  return contact as unknown as Contact;
}

export function toMessage(item: Record<string, unknown>): StoredMessage {
  const { pk: _pk, sk: _sk, expires_at: _e, item_type: _t, ...rest } = item;
  return rest as unknown as StoredMessage;
}

/** One page of a partition's items under a sort-key prefix; cursors only work on their own list. */
export async function queryPage(
  db: DynamoDBDocumentClient,
  tableName: string,
  list: KeyPrefix,
  page: { limit: number; cursor?: string },
  forward: boolean,
) {
  const start = decodeCursor(page.cursor);
  // A cursor is exactly the key of an item of this list; anything else would reach DynamoDB.
  const valid =
    start !== undefined &&
    Object.keys(start).length === 2 &&
    start.pk === list.pk &&
    typeof start.sk === 'string' &&
    start.sk.startsWith(list.skPrefix);
  if (page.cursor && !valid) throw new ValidationError('cursor is not valid for this list');
  const result = await db.send(
    new QueryCommand({
      TableName: tableName,
      ...queryByPrefix(list),
      ScanIndexForward: forward,
      Limit: page.limit,
      ExclusiveStartKey: start,
    }),
  );
  return { items: result.Items ?? [], next_cursor: encodeCursor(result.LastEvaluatedKey) };
}
