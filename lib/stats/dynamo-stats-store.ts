import {
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { queryByRange } from '../conversation/keys.ts';
import { expiresAfterHours, isConditionFailure, queryPages, tableDesign } from '../storage/table.ts';
import { forEachConcurrently } from '../webhook/for-each-concurrently.ts';
import {
  addCounters,
  type BillableMessage,
  billableCounter,
  billableOf,
  type ConversationStats,
  countersOfHour,
  type Increments,
  incrementsOf,
  type MessageTally,
  noCounters,
  type TenantCounters,
} from './conversation-stats.ts';
import { type DayId, type DayWindow, dayOf, daysIn, startOfDay } from './day-buckets.ts';
import { type HourId, type HourWindow, hourOf, startOfHour } from './hour-buckets.ts';
import { statsKeys } from './stats-keys.ts';

/**
 * The statistics in DynamoDB: one item per tenant per UTC hour (stats-keys.ts), its counters added
 * with `ADD`, so parallel workers never lose a count and no read precedes a write. Each item expires
 * (TTL) two days after its hour began: a day past the 24-hour window it serves, never read after.
 * Next to it, one item per tenant per UTC day gets the same counts (one more UpdateItem per tally)
 * and expires DAY_STATS_RETENTION_DAYS after its day began: the 14-day charts read those.
 */

export interface StatsReader {
  /** Each tenant's counters summed over the hours of `window`; a tenant with none gets zeros. */
  sumWindow(tenantIds: readonly string[], window: HourWindow): Promise<Map<string, TenantCounters>>;
}

/** The counters of one UTC day of a tenant. */
export interface DayCounters {
  day: DayId;
  counters: TenantCounters;
  /** Messages Meta bills, per pricing category (absent: none). */
  billable?: Record<string, number>;
}

export interface DailyStatsReader {
  /**
   * Each tenant's counters per day of `window`, oldest first, one entry for every day (zeros for a
   * day without messages): one query per tenant.
   */
  sumDays(tenantIds: readonly string[], window: DayWindow): Promise<Map<string, DayCounters[]>>;
}

/** Whether a statistics reader also reads the daily buckets (the DynamoDB store does). */
export const readsDays = (reader: unknown): reader is DailyStatsReader =>
  typeof (reader as Partial<DailyStatsReader> | undefined)?.sumDays === 'function';

/** Hours an hour's item is kept after the hour began. */
export const STATS_RETENTION_HOURS = 48;

/** Days a day's item is kept after the day began: the 14 days the charts show, and two to spare. */
export const DAY_STATS_RETENTION_DAYS = 16;

/**
 * How long a counted message's mark is kept: Meta retries a webhook for up to 7 days, and a
 * status redelivered after its mark is gone would be counted again.
 */
export const PRICED_MARK_DAYS = 8;

/** Tenants read at once by the operator's report: one small query each, kind to the table's capacity. */
const READ_CONCURRENCY = 8;

const ITEM_TYPE = 'tenant_stats_hour';
const DAY_ITEM_TYPE = 'tenant_stats_day';
const LAST_MESSAGE_AT = 'last_message_at';

export class DynamoStatsStore implements ConversationStats, StatsReader, DailyStatsReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * One UpdateItem per tally. `last_message_at` may only move forward, and DynamoDB has no `max()`
   * in update expressions: the write sets it under the condition that it is newer than the stored
   * one. When a later message of the same hour was recorded first (out of order, rare), the
   * condition fails, nothing at all is written, and the tally is written again without the time.
   * So every count is added exactly once per call, and the time is the latest ever recorded.
   * The day's item gets the same counts in one unconditional UpdateItem, beside the hour's.
   */
  async record(tenantId: string, tally: MessageTally): Promise<void> {
    const increments = incrementsOf(tally);
    if (Object.keys(increments).length === 0) return;
    await Promise.all([
      this.recordHour(tenantId, tally, increments),
      this.db.send(new UpdateCommand(this.dayUpdate(tenantId, dayOf(tally.at), increments))),
    ]);
  }

  /**
   * Counts a billable message once: a conditional Put of the message's mark, then `ADD` to its
   * day's `billable_<category>`. A status seen again (sent, delivered, read, or a redelivery) finds
   * the mark and counts nothing; a crash between the two writes loses that count, never doubles it.
   */
  async recordBillable(tenantId: string, message: BillableMessage): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...statsKeys.priced(tenantId, message.messageId),
            item_type: 'priced_message',
            [tableDesign.ttlAttribute]: expiresAfterHours(PRICED_MARK_DAYS * 24, message.at),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return; // counted already
      throw error;
    }
    const day = dayOf(message.at);
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: statsKeys.day(tenantId, day),
        UpdateExpression: 'SET #type = :type, #expires = :expires ADD #counter :one',
        ExpressionAttributeNames: {
          '#type': 'item_type',
          '#expires': tableDesign.ttlAttribute,
          '#counter': billableCounter(message.category),
        },
        ExpressionAttributeValues: {
          ':type': DAY_ITEM_TYPE,
          ':expires': expiresAfterHours(DAY_STATS_RETENTION_DAYS * 24, startOfDay(day)),
          ':one': 1,
        },
      }),
    );
  }

  private async recordHour(tenantId: string, tally: MessageTally, increments: Increments): Promise<void> {
    const hour = hourOf(tally.at);
    if (increments.messages_in) {
      try {
        await this.db.send(new UpdateCommand(this.hourUpdate(tenantId, hour, increments, tally.at)));
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    await this.db.send(new UpdateCommand(this.hourUpdate(tenantId, hour, increments)));
  }

  /** The write of one tally to its day's item: counts only (no time, no condition). */
  private dayUpdate(tenantId: string, day: DayId, increments: Increments): UpdateCommandInput {
    const names: Record<string, string> = { '#type': 'item_type', '#expires': tableDesign.ttlAttribute };
    const values: Record<string, unknown> = {
      ':type': DAY_ITEM_TYPE,
      ':expires': expiresAfterHours(DAY_STATS_RETENTION_DAYS * 24, startOfDay(day)),
    };
    const adds = Object.entries(increments).map(([counter, value], index) => {
      names[`#c${index}`] = counter;
      values[`:c${index}`] = value;
      return `#c${index} :c${index}`;
    });
    return {
      TableName: this.tableName,
      Key: statsKeys.day(tenantId, day),
      UpdateExpression: `SET #type = :type, #expires = :expires ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /** The write of one tally; with `messageAt`, it also moves `last_message_at` forward (or fails). */
  private hourUpdate(tenantId: string, hour: HourId, increments: Increments, messageAt?: Date) {
    const names: Record<string, string> = { '#type': 'item_type', '#expires': tableDesign.ttlAttribute };
    const values: Record<string, unknown> = {
      ':type': ITEM_TYPE,
      ':expires': expiresAfterHours(STATS_RETENTION_HOURS, startOfHour(hour)),
    };
    const sets = ['#type = :type', '#expires = :expires'];
    const adds = Object.entries(increments).map(([counter, value], index) => {
      names[`#c${index}`] = counter;
      values[`:c${index}`] = value;
      return `#c${index} :c${index}`;
    });
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: statsKeys.hour(tenantId, hour),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    if (messageAt) {
      names['#last'] = LAST_MESSAGE_AT;
      values[':last'] = messageAt.toISOString();
      input.UpdateExpression += ', #last = :last';
      input.ConditionExpression = 'attribute_not_exists(#last) OR #last <= :last';
    }
    if (adds.length > 0) input.UpdateExpression += ` ADD ${adds.join(', ')}`;
    return input;
  }

  async sumWindow(tenantIds: readonly string[], window: HourWindow): Promise<Map<string, TenantCounters>> {
    const sums = new Map<string, TenantCounters>();
    await forEachConcurrently(tenantIds, READ_CONCURRENCY, async (tenantId) => {
      sums.set(tenantId, await this.sumHours(tenantId, window.first, window.last));
    });
    return sums;
  }

  /** One query over the tenant's hours (at most a few KB: 24 items of a few counters). */
  private async sumHours(tenantId: string, first: HourId, last: HourId): Promise<TenantCounters> {
    let sum = noCounters();
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      ...queryByRange(statsKeys.hours(tenantId, first, last)),
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) sum = addCounters(sum, countersOfHour(item));
    }
    return sum;
  }

  async sumDays(tenantIds: readonly string[], window: DayWindow): Promise<Map<string, DayCounters[]>> {
    const series = new Map<string, DayCounters[]>();
    await forEachConcurrently(tenantIds, READ_CONCURRENCY, async (tenantId) => {
      series.set(tenantId, await this.readDays(tenantId, window));
    });
    return series;
  }

  /** One query over the tenant's days (at most 14 small items). */
  private async readDays(tenantId: string, window: DayWindow): Promise<DayCounters[]> {
    const byDay = new Map<DayId, { counters: TenantCounters; billable: Record<string, number> }>();
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      ...queryByRange(statsKeys.days(tenantId, window.first, window.last)),
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const day = statsKeys.dayOfKey(String(item.sk));
        if (day) byDay.set(day, { counters: countersOfHour(item), billable: billableOf(item) });
      }
    }
    return daysIn(window).map((day) => {
      const stored = byDay.get(day);
      return { day, counters: stored?.counters ?? noCounters(), billable: stored?.billable ?? {} };
    });
  }
}
