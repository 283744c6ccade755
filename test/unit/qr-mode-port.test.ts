import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { SqsQrCommandQueue } from '../../lib/qr/command-queue.ts';
import { QrStatusStore } from '../../lib/qr/qr-status-store.ts';
import { S3SessionStore } from '../../lib/qr/s3-session-store.ts';
import { buildQrModePort, type Dependencies } from '../../lib/runtime/dependencies.ts';

/** The admin API's QR mode comes from the configuration: on with command queues, off without. */
const sqs = new SQSClient({ region: 'eu-west-1' });
const baseWith = (env: Record<string, string>) =>
  ({
    config: parseConfig({ TABLE_NAME: 'table', AWS_REGION: 'eu-west-1', ...env }, ['TABLE_NAME']),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  }) as unknown as Dependencies;

describe('buildQrModePort', () => {
  it('given no QR_COMMAND_QUEUE_URLS (or an empty one), then no QR mode', () => {
    expect(buildQrModePort(baseWith({}), sqs)).toEqual({});
    expect(buildQrModePort(baseWith({ QR_COMMAND_QUEUE_URLS: ' , ' }), sqs)).toEqual({});
  });

  it('given two queues and a session bucket, then two shards, their queues in order, statuses and sessions', () => {
    const { qr } = buildQrModePort(
      baseWith({
        QR_COMMAND_QUEUE_URLS: 'https://sqs.test/q0, https://sqs.test/q1',
        QR_SESSION_BUCKET: 'qr-bucket',
      }),
      sqs,
    );
    expect(qr?.shardCount).toBe(2);
    expect(qr?.commands).toBeInstanceOf(SqsQrCommandQueue);
    expect((qr!.commands as SqsQrCommandQueue).queueUrlOf('1')).toBe('https://sqs.test/q1');
    expect(qr?.statuses).toBeInstanceOf(QrStatusStore);
    expect(qr?.sessions).toBeInstanceOf(S3SessionStore);
  });

  it('given queues but no session bucket, then QR mode without the session store', () => {
    const { qr } = buildQrModePort(baseWith({ QR_COMMAND_QUEUE_URLS: 'https://sqs.test/q0' }), sqs);
    expect(qr?.shardCount).toBe(1);
    expect(qr?.sessions).toBeUndefined();
  });
});
