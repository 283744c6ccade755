import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAfterHours, isConditionFailure } from '../storage/table.ts';
import { resolveContact } from './contact-identity.ts';
import { queryPage, toContact, toMessage } from './conversation-items.ts';
import type { ContactRef } from './inbound-event.ts';
import { contactKeys, messageKeys } from './keys.ts';
import type {
  Contact,
  ContactChanges,
  ConversationRecords,
  HandoffBy,
  MessagePricing,
  StoredMessage,
} from './ports.ts';

/** Contacts outlive their messages by this much so the purge, not TTL, erases them. */
export const CONTACT_TTL_MARGIN_HOURS = 72;

const STATUS_RANK: Record<string, number> = { accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/**
 * Contacts and their messages in DynamoDB, partitioned by tenant. Every item carries the TTL
 * attribute; the purge removes what TTL has not yet.
 */
export class ConversationStore implements ConversationRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  resolveContact(tenantId: string, ref: ContactRef, at: Date, retentionHours: number): Promise<ContactRef> {
    return resolveContact(
      this.db,
      this.tableName,
      tenantId,
      ref,
      at,
      retentionHours,
      CONTACT_TTL_MARGIN_HOURS,
    );
  }

  /**
   * Records inbound activity of a contact (creating it on first contact) and returns its state.
   * `last_customer_message_at` keeps the latest `wroteAt` ever seen (service-window.ts): DynamoDB has
   * no max(), so the touch sets it only where there is none, and a second, conditional write moves
   * it forward when this message is newer (nearly always: it is the customer's latest).
   */
  async touchInbound(
    tenantId: string,
    ref: ContactRef,
    at: Date,
    retentionHours: number,
    wroteAt?: Date,
  ): Promise<Contact> {
    const iso = at.toISOString();
    const wrote = wroteAt?.toISOString();
    const values: Record<string, unknown> = {
      ':key': ref.key,
      ':at': iso,
      ':false': false,
      // Longer than the messages: the purge (daily) must find the contact, with its OpenAI
      // conversation id, before DynamoDB's TTL removes it.
      ':expires': expiresAfterHours(retentionHours + CONTACT_TTL_MARGIN_HOURS, at),
      ':type': 'contact',
    };
    const sets = [
      'contact_key = :key',
      'first_seen_at = if_not_exists(first_seen_at, :at)',
      'last_activity_at = :at',
      'last_inbound_at = :at',
      'bot_paused = if_not_exists(bot_paused, :false)',
      'expires_at = :expires',
      'item_type = :type',
    ];
    if (wrote) {
      sets.push('last_customer_message_at = if_not_exists(last_customer_message_at, :wrote)');
      values[':wrote'] = wrote;
    }
    const names: Record<string, string> = {};
    for (const field of ['wa_id', 'user_id', 'name'] as const) {
      if (ref[field]) {
        sets.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = ref[field];
      }
    }
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: contactKeys.contact(tenantId, ref.key),
        // window_closed_at stays: a later customer message outdates it (service-window.ts), and a
        // late redelivery of an older one must not reopen the window.
        UpdateExpression: `SET ${sets.join(', ')}`,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const contact = toContact(Attributes ?? {});
    if (wrote && (contact.last_customer_message_at ?? '') < wrote) {
      if (await this.moveCustomerMessageForward(tenantId, ref.key, wrote)) {
        contact.last_customer_message_at = wrote;
      }
    }
    return contact;
  }

  /** Sets `last_customer_message_at` to `wrote` unless a later one is stored (a parallel worker's). */
  private async moveCustomerMessageForward(
    tenantId: string,
    contactKey: string,
    wrote: string,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: contactKeys.contact(tenantId, contactKey),
          UpdateExpression: 'SET last_customer_message_at = :wrote',
          ConditionExpression: 'attribute_exists(pk) AND last_customer_message_at < :wrote',
          ExpressionAttributeValues: { ':wrote': wrote },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  async handOff(
    tenantId: string,
    ref: ContactRef,
    handoff: { until: Date; by: HandoffBy },
    at: Date,
    retentionHours: number,
  ): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: contactKeys.contact(tenantId, ref.key),
      // Extends, never shortens: a longer handoff (the tenant's, through the API) stays as it is.
      ConditionExpression: 'attribute_not_exists(handoff_until) OR handoff_until < :until',
      UpdateExpression:
        'SET contact_key = :key, first_seen_at = if_not_exists(first_seen_at, :at), ' +
        'last_activity_at = :at, bot_paused = if_not_exists(bot_paused, :false), ' +
        'handoff_until = :until, handoff_by = :by, ' +
        'expires_at = if_not_exists(expires_at, :expires), item_type = :type' +
        (ref.wa_id ? ', wa_id = if_not_exists(wa_id, :wa)' : ''),
      ExpressionAttributeValues: {
        ':key': ref.key,
        ':at': at.toISOString(),
        ':false': false,
        ':until': handoff.until.toISOString(),
        ':by': handoff.by,
        ':expires': expiresAfterHours(retentionHours + CONTACT_TTL_MARGIN_HOURS, at),
        ':type': 'contact',
        ...(ref.wa_id ? { ':wa': ref.wa_id } : {}),
      },
    });
    try {
      await this.db.send(update);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getContact(tenantId: string, contactKey: string): Promise<Contact | undefined> {
    const { Item } = await this.db.send(
      // Consistent: the handoff is re-read through it right before each send, and a person's
      // message written a moment ago must not be missed.
      new GetCommand({
        TableName: this.tableName,
        Key: contactKeys.contact(tenantId, contactKey),
        ConsistentRead: true,
      }),
    );
    return Item ? toContact(Item) : undefined;
  }

  async outboundMessage(
    tenantId: string,
    messageId: string,
  ): Promise<(StoredMessage & { contact_key: string }) | undefined> {
    const pointer = await this.pointerOf(tenantId, messageId);
    if (!pointer) return undefined;
    const { contactKey, sk } = pointer;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: messageKeys.partition(tenantId, contactKey), sk },
      }),
    );
    return Item ? { ...toMessage(Item), contact_key: contactKey } : undefined;
  }

  async sentByUs(tenantId: string, messageId: string): Promise<boolean> {
    return (await this.pointerOf(tenantId, messageId)) !== undefined;
  }

  /**
   * The outbound pointer of a message we sent (its contact and sort key), read consistently: an echo
   * or a status of a send recorded a moment ago finds it.
   */
  private async pointerOf(tenantId: string, messageId: string) {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: messageKeys.outboundPointer(tenantId, messageId),
        ConsistentRead: true,
      }),
    );
    return Item ? { contactKey: String(Item.contact_key), sk: String(Item.message_sk) } : undefined;
  }

  /**
   * Hands an existing contact's chat over (`handoff`) or gives it back to the bot (null); resolves
   * with the contact as it now is, undefined when there is no such contact.
   */
  async setHandoff(
    tenantId: string,
    contactKey: string,
    handoff: { until: Date; by: HandoffBy } | null,
  ): Promise<Contact | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: contactKeys.contact(tenantId, contactKey),
          ...(handoff
            ? {
                UpdateExpression: 'SET handoff_until = :until, handoff_by = :by',
                ExpressionAttributeValues: { ':until': handoff.until.toISOString(), ':by': handoff.by },
              }
            : { UpdateExpression: 'REMOVE handoff_until, handoff_by' }),
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toContact(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Sets a few attributes of an existing contact (bot state, conversation id, window, handoff). */
  async updateContact(tenantId: string, contactKey: string, changes: ContactChanges): Promise<void> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: contactKeys.contact(tenantId, contactKey),
          UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // erased meanwhile
    }
  }

  /** Stores a message; idempotent for the same id and time (a redelivery overwrites itself). */
  async putMessage(
    tenantId: string,
    contactKey: string,
    message: StoredMessage,
    retentionHours: number,
  ): Promise<void> {
    const expires = expiresAfterHours(retentionHours, new Date(message.at));
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...messageKeys.message(tenantId, contactKey, message.at, message.id),
          item_type: 'message',
          ...message,
          expires_at: expires,
        },
      }),
    );
    if (message.direction === 'outbound') {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...messageKeys.outboundPointer(tenantId, message.id),
            item_type: 'outbound_pointer',
            contact_key: contactKey,
            message_sk: messageKeys.message(tenantId, contactKey, message.at, message.id).sk,
            expires_at: expires,
          },
        }),
      );
    }
  }

  /**
   * Applies a delivery status to an outbound message; statuses only move forward. The first
   * `pricing` Meta gives for the message is kept on it, whatever order the statuses arrive in.
   */
  async applyStatus(
    tenantId: string,
    messageId: string,
    status: string,
    errorCodes: number[],
    pricing?: MessagePricing,
  ): Promise<string | undefined> {
    const pointer = await this.pointerOf(tenantId, messageId);
    if (!pointer) return undefined;
    const { contactKey, sk } = pointer;
    const rank = STATUS_RANK[status] ?? 0;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: messageKeys.partition(tenantId, contactKey), sk },
          UpdateExpression: 'SET #status = :status, status_rank = :rank, error_codes = :codes',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(status_rank) OR status_rank < :rank)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':rank': rank, ':codes': errorCodes },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (pricing) await this.keepPricing(tenantId, contactKey, sk, pricing);
    return contactKey;
  }

  private async keepPricing(tenantId: string, contactKey: string, sk: string, pricing: MessagePricing) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: messageKeys.partition(tenantId, contactKey), sk },
          UpdateExpression: 'SET pricing = :pricing',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(pricing)',
          ExpressionAttributeValues: { ':pricing': pricing },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** A contact's messages, newest first. */
  async listMessages(tenantId: string, contactKey: string, page: { limit: number; cursor?: string }) {
    const result = await queryPage(
      this.db,
      this.tableName,
      messageKeys.messages(tenantId, contactKey),
      page,
      false,
    );
    return {
      items: result.items.map((item) => {
        const { status_rank: _r, ...message } = toMessage(item) as StoredMessage & { status_rank?: number };
        return message;
      }),
      next_cursor: result.next_cursor,
    };
  }

  /** A tenant's contacts (ordered by contact key). */
  async listContacts(tenantId: string, page: { limit: number; cursor?: string }) {
    const result = await queryPage(this.db, this.tableName, contactKeys.contacts(tenantId), page, true);
    return { items: result.items.map(toContact), next_cursor: result.next_cursor };
  }
}
