import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { logger } from '../logger.ts';
import { isStorableKey, tableDesign } from '../storage/table.ts';

/**
 * Failed authentications per source (the caller's IP), counted in fixed one-minute windows in the
 * table, so every instance of the API sees the same count. Only failures are counted and a presented
 * key is always checked: a burst of wrong keys from a source gets 429 once it passes the limit, while
 * a right key, even from that source, keeps working. (The keys carry 190 random bits: the limit is not
 * what makes guessing hopeless; it tells a misbehaving client to back off and keeps its noise out.)
 */

export const FAILED_AUTH_LIMIT = 10;
export const FAILED_AUTH_WINDOW_MS = 60_000;

export const authFailureKeys = {
  window: (source: string, windowStart: number) => ({
    pk: `AUTHFAIL#${source}`,
    sk: `WINDOW#${windowStart}`,
  }),
};

export interface FailedAuthVerdict {
  /** Over the limit: answer 429. */
  limited: boolean;
  /** Seconds until the window ends (Retry-After). */
  retryAfterSeconds: number;
}

export interface FailedAuthCounter {
  /** Counts one failure from `source` and says whether it is over the limit. */
  recordFailure(source: string, now?: Date): Promise<FailedAuthVerdict>;
}

export class DynamoFailedAuthLimiter implements FailedAuthCounter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { limit?: number; windowMs?: number } = {},
  ) {}

  async recordFailure(source: string, now: Date = new Date()): Promise<FailedAuthVerdict> {
    const windowMs = this.options.windowMs ?? FAILED_AUTH_WINDOW_MS;
    const limit = this.options.limit ?? FAILED_AUTH_LIMIT;
    const windowStart = Math.floor(now.getTime() / windowMs) * windowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + windowMs - now.getTime()) / 1000));
    const key = authFailureKeys.window(source, windowStart);
    if (!isStorableKey(key)) return { limited: true, retryAfterSeconds };
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD failures :one SET item_type = :type, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': tableDesign.ttlAttribute },
          ExpressionAttributeValues: {
            ':one': 1,
            ':type': 'auth_failures',
            ':ttl': Math.ceil((windowStart + 2 * windowMs) / 1000),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const failures = Number(Attributes?.failures ?? 0);
      return { limited: failures > limit, retryAfterSeconds };
    } catch (error) {
      // Counting is protection, not the answer: a failure to count still answers 401.
      logger.warn('could not count a failed authentication', {
        error: (error as Error)?.name ?? String(error),
      });
      return { limited: false, retryAfterSeconds };
    }
  }
}
