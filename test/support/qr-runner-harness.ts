import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { ensureBucket } from '../../infra/local/buckets.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import type { QrCommand } from '../../lib/qr/commands.ts';
import { QrStatusStore } from '../../lib/qr/qr-status-store.ts';
import { composeQrRunner } from '../../lib/qr/runner/compose-runner.ts';
import type { QrRunner } from '../../lib/qr/runner/qr-runner.ts';
import { shardMembershipKeys } from '../../lib/qr/shards.ts';
import type { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';
import { freshFifoQueue, freshTable, uniqueName } from './emulators.ts';

/**
 * A QR runner on the emulators, for the runner's integration tests: leases, statuses, membership and
 * the command ledger in DynamoDB Local, the command queue, the inbound FIFO queue and the media bucket
 * on fauxqs, sessions on the simulated WhatsApp. Timings are short so a lease expires in well under a
 * second. The bindings below are live: each test's `freshQueues` replaces them.
 */
export let aws: AwsClients;
export let tableName: string;
export let inboundUrl: string;
export let commandUrl: string;
export let mediaBucket: string;
export let statuses: QrStatusStore;
export const running: QrRunner[] = [];
export const warnings: Array<{ message: string; extra: Record<string, unknown> }> = [];
const logger = {
  info() {},
  warn: (message: string, extra: Record<string, unknown>) => void warnings.push({ message, extra }),
  error() {},
};

/** For `afterEach`: every runner started is shut down. */
export async function stopRunners(): Promise<void> {
  await Promise.all(running.splice(0).map((runner) => runner.shutdown()));
}

/** Each test has its own table (its own shard "0") and queues. */
export async function freshQueues() {
  ({ aws, tableName } = await freshTable());
  statuses = new QrStatusStore(aws.dynamo, tableName);
  inboundUrl = (await freshFifoQueue(aws)).url;
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('qrcmd') }));
  commandUrl = QueueUrl!;
  warnings.length = 0;
  mediaBucket = uniqueName('media').toLowerCase();
  await ensureBucket(aws.s3, mediaBucket);
}

export function startRunner(whatsapp: SimulatedWhatsApp, owner: string, telemetry = new InMemoryTelemetry()) {
  const runner = composeQrRunner({
    aws,
    tableName,
    inboundQueueUrl: inboundUrl,
    mediaBucket,
    commandQueueUrls: [commandUrl],
    owner,
    engineFor: whatsapp.engineFor,
    telemetry,
    logger,
    sessionsLimit: 4,
    leaseMs: 3_000,
    receiveWaitSeconds: 1,
    timing: { acquireRetryMs: 100, reconcileMs: 150, watchdogMs: 60_000, retrySendAfterS: 1 },
  });
  runner.start();
  running.push(runner);
  return { runner, telemetry };
}

export async function addMember(tenantId: string) {
  await aws.dynamo.send(
    new PutCommand({
      TableName: tableName,
      Item: { ...shardMembershipKeys.member('0', tenantId), client_id: tenantId },
    }),
  );
}

export async function eventually<T>(
  read: () => Promise<T | undefined> | T | undefined,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const statusIs = (tenantId: string, state: string) => async () => {
  const status = await statuses.readStatus(tenantId);
  return status?.state === state ? status : undefined;
};

export async function inboundEvents(): Promise<Array<Record<string, unknown>>> {
  const events = [];
  for (let i = 0; i < 5; i++) {
    const { Messages } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: inboundUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) break;
    events.push(...Messages.map((message) => JSON.parse(message.Body!)));
  }
  return events;
}

export async function command(body: Partial<QrCommand> & Pick<QrCommand, 'kind' | 'tenant_id'>) {
  const full = {
    v: 1,
    id: uniqueName('cmd'),
    expires_at: new Date(Date.now() + 60_000).toISOString(),
    ...body,
  };
  await aws.sqs.send(new SendMessageCommand({ QueueUrl: commandUrl, MessageBody: JSON.stringify(full) }));
  return full;
}

export async function linkedTenant(whatsapp: SimulatedWhatsApp, phone: string) {
  const tenantId = uniqueName('tenant');
  await addMember(tenantId);
  const shown = await eventually(statusIs(tenantId, 'qr'), 'a QR');
  expect(shown.qr).toBe(whatsapp.currentQr(tenantId)?.qr);
  expect(whatsapp.scan(shown.qr!, phone)).toBe('linked');
  await eventually(statusIs(tenantId, 'connected'), 'connected');
  return tenantId;
}
