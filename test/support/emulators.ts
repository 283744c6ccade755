import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { inject } from 'vitest';
import { startQueuePoller } from '../../infra/local/queue-poller.ts';
import { type AwsClients, createAwsClients } from '../../lib/aws-clients.ts';
import { ensureTable } from '../../lib/storage/table.ts';

/**
 * Per-file resources on the shared emulators started by global-setup.ts: a fresh table and fresh
 * queues with unique names, so test files never see each other's data.
 */
export function emulatorEnv(): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_ENDPOINT_URL_SQS: inject('sqsEndpoint'),
    AWS_ENDPOINT_URL_S3: inject('sqsEndpoint'),
  };
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

export async function freshTable(): Promise<{ aws: AwsClients; tableName: string }> {
  const env = emulatorEnv();
  Object.assign(process.env, env);
  const aws = createAwsClients(env);
  const tableName = uniqueName('t');
  await ensureTable(aws.dynamoBase, tableName);
  return { aws, tableName };
}

export async function freshFifoQueue(aws: AwsClients, visibilityTimeoutSeconds = 30) {
  const { QueueUrl } = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: `${uniqueName('q')}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(visibilityTimeoutSeconds),
      },
    }),
  );
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** Runs a consumer as Lambda's event source mapping would, until its queue is empty. */
export async function drainQueue(
  aws: AwsClients,
  queue: { url: string; arn: string },
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  timeoutMs = 15_000,
) {
  const poller = startQueuePoller({
    sqs: aws.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    handler,
    retryDelaySeconds: 1,
  });
  try {
    await poller.drained(timeoutMs);
  } finally {
    await poller.stop();
  }
}
