import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../errors.ts';
import { expiresAfterHours, isConditionFailure } from '../storage/table.ts';
import type {
  BurstPosition,
  BurstRecords,
  CollectRequest,
  PendingMessage,
  ReplyBurst,
} from './burst-ports.ts';
import type { ContactRef } from './inbound-event.ts';
import { burstKeys, claimKeys } from './keys.ts';
import { LostClaimError } from './ports.ts';

/**
 * The per-contact reply bursts in DynamoDB (one item per contact, in the tenant's partition). Every
 * change is a conditional write on the sequence, so two writers never lose each other's message;
 * the item is kept once answered (its pending list emptied) so the sequence only ever grows and a
 * wake-up from an earlier burst can never match a later one.
 */

/** Read-then-write rounds before giving up (each lost round means another writer moved the burst). */
const WRITE_ROUNDS = 6;

/** The claim outcome of a message answered as part of its burst. */
export const ANSWERED_IN_BURST = 'answered_in_burst';

export class BurstStore implements BurstRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async collect(request: CollectRequest, now: number): Promise<BurstPosition> {
    const { tenantId, contact, message } = request;
    for (let round = 1; round <= WRITE_ROUNDS; round++) {
      const current = await this.get(tenantId, contact.key);
      // A redelivery of a message already waiting (its first worker died after collecting it).
      if (current?.pending.some((m) => m.id === message.id)) return positionOf(current, now);
      const seq = (current?.seq ?? 0) + 1;
      const entry: PendingMessage = { ...message, seq };
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: burstKeys.burst(tenantId, contact.key),
                  UpdateExpression:
                    'SET seq = :seq, pending = list_append(if_not_exists(pending, :empty), :entries), ' +
                    'pending_ids = list_append(if_not_exists(pending_ids, :empty), :ids), ' +
                    'first_at = if_not_exists(first_at, :now), contact = :contact, ' +
                    'phone_number_id = :phone, channel = :channel, item_type = :type, expires_at = :expires',
                  ConditionExpression: current
                    ? 'seq = :prev AND NOT contains(pending_ids, :id)'
                    : 'attribute_not_exists(pk)',
                  ExpressionAttributeValues: {
                    ':seq': seq,
                    ':empty': [],
                    ':entries': [entry],
                    ':ids': [message.id],
                    ':now': now,
                    ':contact': contact,
                    ':phone': request.phoneNumberId,
                    ':channel': request.channel ?? 'cloud_api',
                    ':type': 'reply_burst',
                    // It holds message text: never longer than the messages themselves are kept.
                    ':expires': expiresAfterHours(Math.max(1, request.retentionHours), new Date(now)),
                    ...(current ? { ':prev': current.seq, ':id': message.id } : {}),
                  },
                },
              },
              {
                // Only while the message's claim is ours: once the burst answered it and settled the
                // claim, a worker that took the message over late cannot add it a second time.
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: claimKeys.claim(tenantId, message.id),
                  ConditionExpression: 'lease_owner = :owner AND #state = :working',
                  ExpressionAttributeNames: { '#state': 'state' },
                  ExpressionAttributeValues: { ':owner': request.claimOwner, ':working': 'working' },
                },
              },
            ],
          }),
        );
        return { seq, firstAt: current?.first_at ?? now };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [burst, claim] = error.CancellationReasons ?? [];
        if (claim?.Code === 'ConditionalCheckFailed') throw new LostClaimError(message.id);
        const moved = burst?.Code === 'ConditionalCheckFailed' || burst?.Code === 'TransactionConflict';
        if (!moved && claim?.Code !== 'TransactionConflict') throw error;
      }
    }
    throw new TransientError('the reply burst kept changing while a message joined it');
  }

  async get(tenantId: string, contactKey: string): Promise<ReplyBurst | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: burstKeys.burst(tenantId, contactKey),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    return {
      contact: Item.contact as ContactRef,
      phone_number_id: String(Item.phone_number_id),
      ...(Item.channel === 'qr' || Item.channel === 'cloud_api' ? { channel: Item.channel } : {}),
      seq: Number(Item.seq ?? 0),
      ...(Item.first_at !== undefined ? { first_at: Number(Item.first_at) } : {}),
      pending: (Item.pending as PendingMessage[] | undefined) ?? [],
      ...(typeof Item.answering_id === 'string'
        ? { answering: { id: Item.answering_id, upto: Number(Item.answering_upto) } }
        : {}),
    };
  }

  async startAnswering(tenantId: string, contactKey: string, seq: number, burstId: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: burstKeys.burst(tenantId, contactKey),
          UpdateExpression: 'SET answering_id = :id, answering_upto = :seq',
          ConditionExpression: 'seq = :seq AND attribute_not_exists(answering_id)',
          ExpressionAttributeValues: { ':id': burstId, ':seq': seq },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async settleMessageClaim(tenantId: string, messageId: string, at: Date): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: claimKeys.claim(tenantId, messageId),
          UpdateExpression:
            'SET #state = :done, claim_outcome = :outcome, completed_at = :at REMOVE lease_until, reply_plan, contact_updates',
          ConditionExpression: '#state = :working',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':done': 'done',
            ':working': 'working',
            ':outcome': ANSWERED_IN_BURST,
            ':at': at.toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async clearAnswered(
    tenantId: string,
    contactKey: string,
    burstId: string,
  ): Promise<BurstPosition | undefined> {
    for (let round = 1; round <= WRITE_ROUNDS; round++) {
      const current = await this.get(tenantId, contactKey);
      // Cleared already (an earlier attempt of this wake-up got that far and scheduled the rest).
      if (current?.answering?.id !== burstId) return undefined;
      const rest = current.pending.filter((m) => m.seq > current.answering!.upto);
      const first = rest[0];
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: burstKeys.burst(tenantId, contactKey),
            UpdateExpression: first
              ? 'SET pending = :rest, pending_ids = :ids, first_at = :first REMOVE answering_id, answering_upto'
              : 'SET pending = :rest, pending_ids = :ids REMOVE answering_id, answering_upto, first_at',
            ConditionExpression: 'answering_id = :burst AND seq = :seq',
            ExpressionAttributeValues: {
              ':rest': rest,
              ':ids': rest.map((m) => m.id),
              ':burst': burstId,
              ':seq': current.seq,
              ...(first ? { ':first': first.at } : {}),
            },
          }),
        );
        return first ? { seq: current.seq, firstAt: first.at } : undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new TransientError('the reply burst kept changing while its answered part was cleared');
  }
}

function positionOf(burst: ReplyBurst, now: number): BurstPosition {
  return { seq: burst.seq, firstAt: burst.first_at ?? now };
}
