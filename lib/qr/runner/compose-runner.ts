import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../../aws-clients.ts';
import { TransientError } from '../../errors.ts';
import { storeMedia } from '../../media/media-objects.ts';
import type { Telemetry } from '../../observability/telemetry.ts';
import { type FifoMessage, publishFifoMessages } from '../../queue/sqs-publisher.ts';
import { ClientRepository } from '../../tenants/client-repository.ts';
import { QrStatusStore } from '../qr-status-store.ts';
import type { SessionEngineFactory } from '../session-engine.ts';
import { ShardLeases } from '../shard-lease.ts';
import { ShardMembers } from '../shard-members.ts';
import { CommandLedger } from './command-ledger.ts';
import { SqsCommandSource } from './command-source.ts';
import { QrRunner, type RunnerLogger, type RunnerTiming } from './qr-runner.ts';

export interface QrRunnerSetup {
  aws: Pick<AwsClients, 'dynamo' | 'sqs' | 's3'>;
  tableName: string;
  inboundQueueUrl: string;
  /** The media bucket: customers' media goes under each tenant's prefix (media-objects.ts). */
  mediaBucket: string;
  /** One command queue per shard: shard `i` is `commandQueueUrls[i]`. */
  commandQueueUrls: readonly string[];
  /** This task, unique per process lifetime. */
  owner: string;
  engineFor: SessionEngineFactory;
  telemetry: Telemetry;
  logger: RunnerLogger;
  sessionsLimit: number;
  /** How long a lease holds without a heartbeat (default 30 s; heartbeats every third of it). */
  leaseMs?: number;
  timing?: Partial<RunnerTiming>;
  /** Long-poll wait of the command queue (20 s in AWS; shorter in tests). */
  receiveWaitSeconds?: number;
  random?: () => number;
}

const PUBLISH_ATTEMPTS = 5;

/**
 * A QR runner on the real adapters: leases, statuses and membership in DynamoDB, queues in SQS,
 * customers' media in the media bucket.
 */
export function composeQrRunner(setup: QrRunnerSetup): QrRunner {
  const leaseMs = setup.leaseMs ?? 30_000;
  const statuses = new QrStatusStore(setup.aws.dynamo, setup.tableName);
  const members = new ShardMembers(setup.aws.dynamo, setup.tableName);
  const clients = new ClientRepository(setup.aws.dynamo, setup.tableName);
  const shards = setup.commandQueueUrls.map((_, index) => String(index));
  return new QrRunner({
    shards,
    leases: new ShardLeases(setup.aws.dynamo, setup.tableName, { owner: setup.owner, durationMs: leaseMs }),
    commandsOf: (shard) =>
      new SqsCommandSource(setup.aws.sqs, setup.commandQueueUrls[Number(shard)]!, setup.receiveWaitSeconds),
    membersOf: (shard) => members.list(shard),
    isMember: (shard, tenantId) => members.has(shard, tenantId),
    settingsOf: async (tenantId) => ({
      answerGroups: (await clients.get(tenantId))?.qr_answer_groups === true,
    }),
    writeStatus: (tenantId, status, lease) => statuses.writeStatus(tenantId, status, lease),
    publish: (messages) => publishWithRetries(setup, messages),
    media: { store: async (media) => void (await storeMedia(setup.aws.s3, setup.mediaBucket, media)) },
    ledger: new CommandLedger(setup.aws.dynamo, setup.tableName),
    engineFor: setup.engineFor,
    telemetry: setup.telemetry,
    logger: setup.logger,
    sessionsLimit: setup.sessionsLimit,
    timing: { heartbeatMs: Math.floor(leaseMs / 3), ...setup.timing },
    ...(setup.random ? { random: setup.random } : {}),
  });
}

/**
 * A session's events are not delivered twice by WhatsApp: what SQS refuses for now is tried again
 * (the deduplication ids make a repeat harmless) before it is given up, with its ids logged.
 */
async function publishWithRetries(setup: QrRunnerSetup, messages: FifoMessage[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await publishFifoMessages(setup.aws.sqs, setup.inboundQueueUrl, messages);
      return;
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= PUBLISH_ATTEMPTS) throw error;
      await sleep(200 * 2 ** attempt);
    }
  }
}
