import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  burstKeys,
  claimKeys,
  contactAliasKeys,
  contactKeys,
  type KeyPrefix,
  messageKeys,
  queryByPartition,
  queryByPrefix,
  queryByRange,
} from '../conversation/keys.ts';
import { expiresAfterHours, isConditionFailure, queryPages } from '../storage/table.ts';
import { clientKeys } from '../tenants/client.ts';

/**
 * The deletions of the retention purge and of erasure requests. Every delete asks DynamoDB for the
 * old item and counts only when it got one, so two overlapping runs never count (or act on) the
 * same item twice.
 */

export interface ContactRecord {
  contact_key: string;
  last_activity_at: string;
  openai_conversation_id?: string;
}

export interface PurgeRunRecord {
  run_id: string;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'completed' | 'partial' | 'failed';
  started_at: string;
  finished_at?: string;
  scope: { client_id?: string; older_than_hours?: number };
  report?: object;
}

/** The purge runs' own keys: one partition for all of them, newest last. */
const purgeRunKeys = {
  partition: 'PURGE_RUNS',
  run: (run: Pick<PurgeRunRecord, 'started_at' | 'run_id'>) => ({
    pk: purgeRunKeys.partition,
    sk: `RUN#${run.started_at}#${run.run_id}`,
  }),
};

const RUN_RECORD_RETENTION_HOURS = 90 * 24;
const PARALLEL_DELETES = 10;

export class RetentionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every contact of a tenant, page by page. */
  async *contacts(tenantId: string): AsyncGenerator<ContactRecord> {
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      ...queryByPrefix(contactKeys.contacts(tenantId)),
      ProjectionExpression: 'contact_key, last_activity_at, openai_conversation_id',
    });
    for await (const page of pages) for (const item of page.Items ?? []) yield item as ContactRecord;
  }

  /**
   * Deletes one item (if `condition` holds); resolves with the old item when this call deleted it,
   * undefined when it was already gone or the condition failed.
   */
  private async deleteItem(
    key: Record<string, unknown>,
    condition?: { expression: string; values: Record<string, unknown> },
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ...(condition
            ? { ConditionExpression: condition.expression, ExpressionAttributeValues: condition.values }
            : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async getContact(tenantId: string, contactKey: string): Promise<ContactRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: contactKeys.contact(tenantId, contactKey),
        ConsistentRead: true,
      }),
    );
    return Item as ContactRecord | undefined;
  }

  /**
   * Takes a contact for erasure so that overlapping runs never erase (or count) it twice: a lease on
   * the contact item. 'taken' with the contact, 'busy' when another run holds it, 'gone' when absent.
   */
  async takeContactForErasure(
    tenantId: string,
    contactKey: string,
    runId: string,
    leaseMs: number,
  ): Promise<{ outcome: 'taken'; contact: ContactRecord } | { outcome: 'busy' | 'gone' }> {
    const now = Date.now();
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: contactKeys.contact(tenantId, contactKey),
          UpdateExpression: 'SET erasing_run = :run, erasing_until = :until',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(erasing_until) OR erasing_until < :now)',
          ExpressionAttributeValues: { ':run': runId, ':until': now + leaseMs, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { outcome: 'taken', contact: Attributes as ContactRecord };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.getContact(tenantId, contactKey)) ? { outcome: 'busy' } : { outcome: 'gone' };
    }
  }

  /** Gives a contact back (the run stopped or failed on it): the next run may take it at once. */
  async releaseContact(tenantId: string, contactKey: string, runId: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: contactKeys.contact(tenantId, contactKey),
          UpdateExpression: 'REMOVE erasing_run, erasing_until',
          ConditionExpression: 'erasing_run = :run',
          ExpressionAttributeValues: { ':run': runId },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  /**
   * Deletes the contact item if this run still holds it (and, for the retention purge, if it has
   * stayed idle since the cutoff: a customer who wrote meanwhile keeps their conversation).
   * Resolves with it when this call deleted it.
   */
  async deleteContact(
    tenantId: string,
    contactKey: string,
    runId: string,
    idleBeforeIso?: string,
  ): Promise<ContactRecord | undefined> {
    const deleted = await this.deleteItem(contactKeys.contact(tenantId, contactKey), {
      expression: idleBeforeIso ? 'erasing_run = :run AND last_activity_at < :cutoff' : 'erasing_run = :run',
      values: idleBeforeIso ? { ':run': runId, ':cutoff': idleBeforeIso } : { ':run': runId },
    });
    if (!deleted) return undefined;
    // The ids that named the contact go with it (each only while it still names this contact).
    const aliases = [
      ...(typeof deleted.user_id === 'string'
        ? [contactAliasKeys.alias(tenantId, 'uid', deleted.user_id)]
        : []),
      ...(typeof deleted.wa_id === 'string' ? [contactAliasKeys.alias(tenantId, 'wa', deleted.wa_id)] : []),
    ];
    await inParallel(aliases, async (key) => {
      await this.deleteItem(key, { expression: 'contact_key = :key', values: { ':key': contactKey } });
    });
    return deleted as unknown as ContactRecord;
  }

  /**
   * Deletes a contact's messages older than `beforeIso` (all when undefined), up to `limit`, with
   * the outbound pointers of deleted outbound messages. Resolves with how many this call deleted and
   * whether some may remain.
   */
  async deleteMessages(
    tenantId: string,
    contactKey: string,
    beforeIso: string | undefined,
    limit: number,
  ): Promise<{ deleted: number; more: boolean }> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(beforeIso
          ? queryByRange(messageKeys.receivedBefore(tenantId, contactKey, beforeIso))
          : queryByPartition(messageKeys.partition(tenantId, contactKey))),
        ProjectionExpression: 'pk, sk, id, direction',
        Limit: Math.max(1, limit),
      }),
    );
    const items = page.Items ?? [];
    let deleted = 0;
    await inParallel(items, async (item) => {
      const old = await this.deleteItem({ pk: item.pk, sk: item.sk });
      if (!old) return;
      deleted++;
      if (old.direction === 'outbound' && typeof old.id === 'string') {
        await this.deleteItem(messageKeys.outboundPointer(tenantId, old.id));
      }
    });
    return { deleted, more: page.LastEvaluatedKey !== undefined };
  }

  /** Deletes idempotency claims whose TTL has passed (DynamoDB's TTL may lag by days). */
  deleteExpiredClaims(tenantId: string, nowEpochSeconds: number, limit: number) {
    return this.deleteExpired(claimKeys.claims(tenantId), nowEpochSeconds, limit);
  }

  /**
   * Deletes reply bursts (conversation/reply-burst.ts) whose TTL has passed: they hold the text of
   * messages waiting for an answer, kept no longer than the messages themselves.
   */
  deleteExpiredBursts(tenantId: string, nowEpochSeconds: number, limit: number) {
    return this.deleteExpired(burstKeys.bursts(tenantId), nowEpochSeconds, limit);
  }

  /** Deletes a contact's reply burst (with the contact: erasure, or an idle contact's purge). */
  async deleteBurst(tenantId: string, contactKey: string): Promise<boolean> {
    return (await this.deleteItem(burstKeys.burst(tenantId, contactKey))) !== undefined;
  }

  /** Deletes the items under `list` whose `expires_at` has passed, up to `limit`. */
  private async deleteExpired(
    list: KeyPrefix,
    nowEpochSeconds: number,
    limit: number,
  ): Promise<{ deleted: number; more: boolean }> {
    // Pages through every item (the filter applies after each page's limit), stopping once `limit`
    // were deleted: a first page of live claims must not hide the expired ones behind it.
    let deleted = 0;
    let more = false;
    const condition = { expression: 'expires_at < :now', values: { ':now': nowEpochSeconds } };
    const items = queryByPrefix(list);
    const pages = queryPages(this.db, {
      TableName: this.tableName,
      ...items,
      FilterExpression: 'expires_at < :now',
      ExpressionAttributeValues: { ...items.ExpressionAttributeValues, ':now': nowEpochSeconds },
      ProjectionExpression: 'pk, sk',
      Limit: 500,
    });
    for await (const page of pages) {
      await inParallel((page.Items ?? []).slice(0, limit - deleted), async (item) => {
        if (await this.deleteItem({ pk: item.pk, sk: item.sk }, condition)) deleted++;
      });
      more = page.LastEvaluatedKey !== undefined;
      if (deleted >= limit) break;
    }
    return { deleted, more };
  }

  /** Deletes whatever is left in a tenant's partition except its profile (claims, pointers...). */
  async deleteTenantLeftovers(tenantId: string, limit: number): Promise<{ deleted: number; more: boolean }> {
    const profile = clientKeys.profile(tenantId);
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        ...queryByPartition(profile.pk),
        ProjectionExpression: 'pk, sk',
        Limit: Math.max(1, limit) + 1,
      }),
    );
    const items = (page.Items ?? []).filter((item) => item.sk !== profile.sk).slice(0, limit);
    let deleted = 0;
    await inParallel(items, async (item) => {
      if (await this.deleteItem({ pk: item.pk, sk: item.sk })) deleted++;
    });
    return { deleted, more: page.LastEvaluatedKey !== undefined || items.length === limit };
  }

  /** Deletes a deleted client's profile and (if still its own) its phone route. */
  async deleteClientRecords(tenantId: string, phoneNumberId: string, slug?: string): Promise<boolean> {
    const inactive = { ':false': false };
    await this.deleteItem(clientKeys.phoneRoute(phoneNumberId), {
      expression: 'client_id = :id AND active = :false',
      values: { ':id': tenantId, ...inactive },
    });
    const profile = await this.deleteItem(clientKeys.profile(tenantId), {
      expression: 'active = :false',
      values: inactive,
    });
    // The landing page's lookup goes with the profile (a reactivated client keeps both).
    if (profile !== undefined && slug) {
      await this.deleteItem(clientKeys.slugLookup(slug), {
        expression: 'client_id = :id',
        values: { ':id': tenantId },
      });
    }
    return profile !== undefined;
  }

  async startRun(run: PurgeRunRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...purgeRunKeys.run(run),
          item_type: 'purge_run',
          ...run,
          expires_at: expiresAfterHours(RUN_RECORD_RETENTION_HOURS),
        },
      }),
    );
  }

  async finishRun(run: PurgeRunRecord): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: purgeRunKeys.run(run),
        UpdateExpression: 'SET #status = :status, finished_at = :finished, #report = :report',
        ExpressionAttributeNames: { '#status': 'status', '#report': 'report' },
        ExpressionAttributeValues: {
          ':status': run.status,
          ':finished': run.finished_at,
          ':report': run.report ?? {},
        },
      }),
    );
  }

  async listRuns(limit: number): Promise<PurgeRunRecord[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        ...queryByPartition(purgeRunKeys.partition),
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map(({ pk: _pk, sk: _sk, item_type: _t, expires_at: _e, ...run }) => run as PurgeRunRecord);
  }
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL_DELETES) {
    await Promise.all(items.slice(i, i + PARALLEL_DELETES).map(work));
  }
}
