import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createAwsClients } from '../lib/aws-clients.ts';
import { type AppConfig, parseConfig } from '../lib/config.ts';
import { logger } from '../lib/logger.ts';
import { EmfTelemetry } from '../lib/observability/emf-telemetry.ts';
import { composeQrRunner } from '../lib/qr/runner/compose-runner.ts';
import { startHealthServer } from '../lib/qr/runner/health-server.ts';
import { S3SessionStore } from '../lib/qr/s3-session-store.ts';

/**
 * The QR runner task (ECS Fargate, one per shard): holds a shard, hosts its tenants' WhatsApp Web
 * sessions in Debian's Chromium, until SIGTERM. Not a Lambda: a long-lived process.
 */
const METRICS_FLUSH_MS = 60_000;

async function taskId(config: AppConfig): Promise<string> {
  const configured = config.QR_RUNNER_ID;
  if (configured) return configured;
  const metadata = config.ECS_CONTAINER_METADATA_URI_V4;
  if (metadata) {
    try {
      const task = (await (await fetch(`${metadata}/task`)).json()) as { TaskARN?: string };
      if (task.TaskARN) return `${task.TaskARN.split('/').pop()}-${randomBytes(3).toString('hex')}`;
    } catch (error) {
      logger.warn('no ECS task metadata; naming the runner after its host', { error: String(error) });
    }
  }
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

async function main() {
  const config = parseConfig();
  const tableName = config.TABLE_NAME;
  const inboundQueueUrl = config.INBOUND_QUEUE_URL;
  const commandQueueUrls = config.QR_COMMAND_QUEUE_URLS ?? [];
  const bucket = config.QR_SESSION_BUCKET;
  const mediaBucket = config.MEDIA_BUCKET_NAME;
  if (!tableName || !inboundQueueUrl || commandQueueUrls.length === 0 || !bucket || !mediaBucket) {
    throw new Error(
      'TABLE_NAME, INBOUND_QUEUE_URL, QR_COMMAND_QUEUE_URLS, QR_SESSION_BUCKET and MEDIA_BUCKET_NAME are required',
    );
  }
  if (config.QR_ENGINE !== 'wwebjs') {
    throw new Error('a runner task uses QR_ENGINE=wwebjs; the simulated engine runs inside the local stack');
  }
  const aws = createAwsClients();
  const { createWwebjsEngineFactory } = await import('../lib/qr/wwebjs-engine.ts');
  const engineFor = createWwebjsEngineFactory({
    snapshots: new S3SessionStore(aws.s3, bucket),
    chromiumPath: config.CHROMIUM_PATH,
    dataDir: config.QR_PROFILE_DIR,
  });
  const telemetry = new EmfTelemetry('qr-runner');
  const flush = setInterval(() => telemetry.flush(), METRICS_FLUSH_MS);
  const owner = await taskId(config);
  const runner = composeQrRunner({
    aws,
    tableName,
    inboundQueueUrl,
    mediaBucket,
    commandQueueUrls,
    owner,
    engineFor,
    telemetry,
    logger,
    sessionsLimit: config.QR_SESSIONS_PER_TASK,
  });
  const health = await startHealthServer(() => runner.health(), config.QR_RUNNER_HEALTH_PORT);
  runner.start();
  logger.info('QR runner started', { owner, shards: commandQueueUrls.length });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('QR runner stopping', { signal });
    await runner.shutdown();
    clearInterval(flush);
    telemetry.flush();
    health.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  logger.error('QR runner failed to start', { error: String(error) });
  process.exit(1);
});
