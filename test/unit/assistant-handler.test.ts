import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import type { AnswerDeps } from '../../lib/conversation/answer-message.ts';

const event = (count: number): SQSEvent => ({
  Records: Array.from({ length: count }, (_, i) => ({
    messageId: `m${i}`,
    receiptHandle: `r${i}`,
    body: '{"v":1}',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: `g${i}`,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:1:q.fifo',
    awsRegion: 'us-east-1',
  })),
});

const context = (remainingMs: number) =>
  ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('assistant handler', () => {
  it('given too little time left in the invocation, then it takes no record and returns them all to the queue', async () => {
    const handler = createAssistantHandler(async () => ({}) as AnswerDeps);
    const result = await handler(event(3), context(10_000));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m0', 'm1', 'm2']);
  });

  it('given a body that breaks the queue contract, then the record fails (and ends in the dead-letter queue)', async () => {
    const handler = createAssistantHandler(async () => ({}) as AnswerDeps);
    const result = await handler(event(1), context(90_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);
  });
});
