import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../lib/aws-clients.ts';
import { logger } from '../../lib/logger.ts';
import { noTelemetry } from '../../lib/observability/telemetry.ts';
import { composeQrRunner } from '../../lib/qr/runner/compose-runner.ts';
import type { QrRunner } from '../../lib/qr/runner/qr-runner.ts';
import { S3SessionStore } from '../../lib/qr/s3-session-store.ts';
import type { SessionEngineFactory } from '../../lib/qr/session-engine.ts';
import { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';
import { ensureBucket } from './buckets.ts';
import { createPhoneApi } from './simulator/phone-api.ts';
import type { SimulatorPart } from './simulator/types.ts';

/**
 * QR mode in the local stack: the shards' command queues and the session bucket on the emulators,
 * and one runner task in this process (in AWS: ECS tasks), with the simulated WhatsApp by default
 * (the simulator's phone routes play its phone) or whatsapp-web.js in Debian's Chromium with
 * `QR_ENGINE=wwebjs`.
 */
const STOP_BUDGET_MS = 10_000;

export interface LocalQrMode {
  /** What the functions read: the command queues and the session bucket. */
  env: Record<string, string>;
  engine: 'simulated' | 'wwebjs';
  /** The simulated WhatsApp (simulated engine only). */
  whatsapp?: SimulatedWhatsApp;
  /** `/simulator/phone/*` (simulated engine only). */
  phone?: SimulatorPart;
  /** Starts the runner once the table exists. */
  start(): Promise<QrRunner>;
  stop(): Promise<void>;
}

export interface LocalQrModeOptions {
  aws: AwsClients;
  prefix: string;
  tableName: string;
  inboundQueueUrl: () => string;
  /** The media bucket, where the runner keeps customers' media (as the Cloud API path does). */
  mediaBucket: string;
  engine: 'simulated' | 'wwebjs';
  shards: number;
  chromiumPath: string;
  profileDir: string;
  /** How long a shown QR lasts before a new one replaces it, and how many refreshes before it expires. */
  qrLifetimeMs?: number;
  qrMaxRefreshes?: number;
}

export async function prepareLocalQrMode(options: LocalQrModeOptions): Promise<LocalQrMode> {
  const { aws, prefix } = options;
  const commandQueueUrls: string[] = [];
  for (let shard = 0; shard < options.shards; shard++) {
    const { QueueUrl } = await aws.sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-qr-commands-${shard}`,
        Attributes: { VisibilityTimeout: '60' },
      }),
    );
    commandQueueUrls.push(QueueUrl!);
  }
  const bucket = `${prefix}-qr-sessions`.toLowerCase();
  await ensureBucket(aws.s3, bucket);
  const whatsapp =
    options.engine === 'simulated'
      ? new SimulatedWhatsApp(options.qrLifetimeMs ? { qrLifetimeMs: options.qrLifetimeMs } : {})
      : undefined;
  let runner: QrRunner | undefined;
  let refresher: NodeJS.Timeout | undefined;

  async function engineFactory(): Promise<SessionEngineFactory> {
    if (whatsapp) return whatsapp.engineFor;
    const { createWwebjsEngineFactory } = await import('../../lib/qr/wwebjs-engine.ts');
    return createWwebjsEngineFactory({
      snapshots: new S3SessionStore(aws.s3, bucket),
      chromiumPath: options.chromiumPath,
      dataDir: options.profileDir,
    });
  }

  return {
    env: {
      QR_COMMAND_QUEUE_URLS: commandQueueUrls.join(','),
      QR_SESSION_BUCKET: bucket,
      QR_ENGINE: options.engine,
    },
    engine: options.engine,
    ...(whatsapp ? { whatsapp, phone: createPhoneApi({ whatsapp }) } : {}),
    async start() {
      runner = composeQrRunner({
        aws,
        tableName: options.tableName,
        inboundQueueUrl: options.inboundQueueUrl(),
        mediaBucket: options.mediaBucket,
        commandQueueUrls,
        owner: `local-${process.pid}`,
        engineFor: await engineFactory(),
        telemetry: noTelemetry,
        logger,
        sessionsLimit: 20,
        leaseMs: 15_000,
        receiveWaitSeconds: 1,
        timing: { acquireRetryMs: 1_000, reconcileMs: 5_000 },
      });
      runner.start();
      if (whatsapp) refresher = refreshShownQrs(whatsapp, options.qrMaxRefreshes ?? 5);
      return runner;
    },
    async stop() {
      if (refresher) clearInterval(refresher);
      // Bounded, so a stuck emulator call never holds the whole stack's stop (ECS would kill the task).
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn('the local QR runner did not stop within 10 s; stopping the stack anyway', {});
          resolve();
        }, STOP_BUDGET_MS);
      });
      await Promise.race([runner?.shutdown(), late]);
      clearTimeout(timer);
    },
  };
}

/**
 * What WhatsApp Web does to a QR nobody scans: a new one when it expires, and after `maxRefreshes`
 * the session gives up (`qr_expired`), until the tenant asks for a new QR.
 */
function refreshShownQrs(whatsapp: SimulatedWhatsApp, maxRefreshes: number): NodeJS.Timeout {
  const refreshes = new Map<string, { qr: string; count: number }>();
  const timer = setInterval(
    () => {
      const now = whatsapp.now().getTime();
      for (const shown of whatsapp.showingQr()) {
        if (shown.expiresAt.getTime() > now) continue;
        const seen = refreshes.get(shown.tenantId);
        const count = seen && seen.qr === shown.qr ? seen.count : 0;
        if (count >= maxRefreshes) {
          refreshes.delete(shown.tenantId);
          whatsapp.disconnect(shown.tenantId, 'qr_expired', `no scan after ${maxRefreshes} QR refreshes`);
          continue;
        }
        const next = whatsapp.refreshQr(shown.tenantId);
        refreshes.set(shown.tenantId, { qr: next.qr, count: count + 1 });
      }
      for (const tenantId of refreshes.keys()) {
        if (!whatsapp.showingQr().some((shown) => shown.tenantId === tenantId)) refreshes.delete(tenantId);
      }
    },
    Math.min(whatsapp.qrLifetimeMs / 4, 1_000),
  );
  timer.unref();
  return timer;
}
