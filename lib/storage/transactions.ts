import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransientError } from '../errors.ts';

/**
 * Why each item of a cancelled transaction failed (`ConditionalCheckFailed`, `TransactionConflict`,
 * `None`…), in the order of the transaction's items; undefined when `error` is no cancellation.
 */
export function cancellationCodes(error: unknown): Array<string | undefined> | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}

/**
 * Whether a write lost a race with a transaction on the same item (not a failed condition): DynamoDB
 * cancels a transaction with `TransactionConflict`, and refuses a plain write to an item a
 * transaction is writing with `TransactionConflictException`. Trying again is the remedy.
 */
export function isTransactionConflict(error: unknown): boolean {
  if ((error as { name?: unknown } | undefined)?.name === 'TransactionConflictException') return true;
  return (cancellationCodes(error) ?? []).includes('TransactionConflict');
}

/** Attempts of a write that keeps losing races before TransientError (backoff 10 ms doubling, jittered). */
export const CONFLICT_ATTEMPTS = 8;
const CONFLICT_BACKOFF_MS = 10;

/**
 * Runs `write` again (after a jittered backoff) while it loses races to concurrent transactions, so
 * contenders serialise instead of all failing; any other outcome is `write`'s own. After
 * CONFLICT_ATTEMPTS losses it gives up with TransientError (503: the caller may retry).
 */
export async function retryOnTransactionConflict<T>(what: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isTransactionConflict(error)) throw error;
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new TransientError(`${what} kept conflicting with concurrent writes`, { cause: error });
      }
      await sleep(Math.random() * CONFLICT_BACKOFF_MS * 2 ** attempt);
    }
  }
}
