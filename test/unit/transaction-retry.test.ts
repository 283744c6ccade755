import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../lib/errors.ts';
import { CONFLICT_ATTEMPTS, retryOnTransactionConflict } from '../../lib/storage/transactions.ts';
import { ApiKeyRepository } from '../../lib/tenants/api-key-repository.ts';
import { InvitationRepository } from '../../lib/tenants/invitation-repository.ts';

/**
 * DynamoDB Local runs transactions one at a time, so it never answers TransactionConflict: the races
 * the integration tests win there are lost on AWS this way, and retried.
 */
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const conflictException = () =>
  Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });

describe('given a write that loses races to concurrent transactions', () => {
  it('when it conflicts, then it is tried again until it succeeds', async () => {
    let calls = 0;
    const result = await retryOnTransactionConflict('a write', async () => {
      calls++;
      if (calls === 1) throw cancelled('None', 'TransactionConflict');
      if (calls === 2) throw conflictException();
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('when a condition fails, then that is the answer at once', async () => {
    let calls = 0;
    const failure = cancelled('None', 'ConditionalCheckFailed');
    await expect(
      retryOnTransactionConflict('a write', async () => {
        calls++;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });

  it('when it keeps conflicting, then it gives up with a TransientError (503)', async () => {
    let calls = 0;
    const attempt = retryOnTransactionConflict('a write', async () => {
      calls++;
      throw cancelled('TransactionConflict');
    });
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(CONFLICT_ATTEMPTS);
  });
});

describe('given the repositories on AWS, where racing transactions conflict', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  afterEach(() => dynamo.reset());
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

  it('when creating a key conflicts once, then the key is still created', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None', 'None'))
      .resolves({});
    const created = await new ApiKeyRepository(db, 't').createApiKey('cl_abc');
    expect(created.api_key.startsWith(created.prefix)).toBe(true);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('when issuing an invitation conflicts once, then it is still issued', async () => {
    dynamo.on(GetCommand).resolves({});
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None'))
      .resolves({});
    const issued = await new InvitationRepository(db, 't').issueInvitation('cl_abc');
    expect(issued.token.startsWith(`wti_${issued.invitation_id}_`)).toBe(true);
  });
});
