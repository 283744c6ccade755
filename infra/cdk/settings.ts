import type { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { parseConfig } from '../../lib/config.ts';

/**
 * Deployment settings, read once from CDK context (`cdk.json` or `-c name=value`) and validated
 * with zod, so a typo fails the synth instead of reaching AWS. Only names and tunables live here;
 * secret values never pass through the CDK.
 */
const contextSchema = z.object({
  /** `prod` retains data on delete and turns deletion protection on; `dev` cleans up after itself. */
  stage: z.enum(['prod', 'dev']).default('dev'),
  /** SES identity: a domain (`example.com`) or one address (`bot@example.com`). */
  sesIdentity: z.string().min(3).optional(),
  /** The sender of invitation e-mails (default: the identity, or no-reply@ the identity's domain). */
  sesFromAddress: z.email().optional(),
  /** The public URL of the deployment (a custom domain); default the HTTP API's own URL. */
  publicBaseUrl: z.url().optional(),
  /** The platform's Meta app id: lets the tenants' connection test ask Graph's debug_token. */
  metaAppId: z
    .string()
    .regex(/^\d{5,32}$/, 'must be the numeric Meta app id')
    .optional(),
  /** Where alarm notifications go (an e-mail subscription to the alarm topic). */
  alarmEmail: z.email().optional(),
  logRetentionDays: z.coerce.number().int().optional(),
  /**
   * Backstop expiry of media objects. The purge deletes media per tenant retention (up to 365 days,
   * lib/tenants/client-schemas.ts); the lifecycle rule only guarantees nothing outlives the longest
   * allowed retention if the purge stops. Lower it if every tenant keeps less.
   */
  mediaExpirationDays: z.coerce.number().int().min(1).default(366),
  /** Default-stage throttling of the HTTP API (requests per second, steady and burst). */
  apiRateLimit: z.coerce.number().int().min(1).default(200),
  apiBurstLimit: z.coerce.number().int().min(1).default(400),
  /**
   * QR mode: the number of shards (one command queue and one Fargate runner task each). 0 turns QR
   * mode off on this deployment: no session bucket, command queues, cluster or runner.
   */
  qrShards: z.coerce.number().int().min(0).max(50).default(1),
  /**
   * The most QR sessions one runner task hosts: the task is sized from it (infra/cdk/constructs/
   * qr-runner-service.ts, `fargateTaskSize`) and the runner gets it as QR_SESSIONS_PER_TASK.
   */
  qrSessionsPerTask: z.coerce.number().int().min(1).max(50).default(4),
  graphApiVersion: z.string().optional(),
  openAiModel: z.string().optional(),
  retentionHours: z.coerce.number().int().optional(),
});

export interface DeploySettings {
  stage: 'prod' | 'dev';
  isProduction: boolean;
  sesIdentity: string | undefined;
  sesFromAddress: string | undefined;
  publicBaseUrl: string | undefined;
  metaAppId: string | undefined;
  alarmEmail: string | undefined;
  logRetention: RetentionDays;
  mediaExpirationDays: number;
  api: { rateLimit: number; burstLimit: number };
  /** QR mode's shards (0: off) and the sessions-per-task budget the runner task is sized from. */
  qr: { shards: number; sessionsPerTask: number };
  /** Plain configuration every function receives (validated by the functions' own schema). */
  functionSettings: { GRAPH_API_VERSION: string; OPENAI_MODEL: string; RETENTION_HOURS: string };
}

const CONTEXT_KEYS = Object.keys(contextSchema.shape) as Array<keyof typeof contextSchema.shape>;

export function readSettings(app: App): DeploySettings {
  const raw = Object.fromEntries(CONTEXT_KEYS.map((key) => [key, app.node.tryGetContext(key) ?? undefined]));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid CDK context: ${fields}`);
  }
  const context = parsed.data;
  const isProduction = context.stage === 'prod';
  const retentionDays = context.logRetentionDays ?? (isProduction ? 90 : 14);
  if (!Object.values(RetentionDays).includes(retentionDays)) {
    throw new Error(
      `invalid CDK context: logRetentionDays ${retentionDays} is not a CloudWatch Logs retention`,
    );
  }
  // The functions' own schema (lib/config.ts) supplies the defaults and rejects bad values at synth.
  const config = parseConfig({
    GRAPH_API_VERSION: context.graphApiVersion,
    OPENAI_MODEL: context.openAiModel,
    RETENTION_HOURS: context.retentionHours === undefined ? undefined : String(context.retentionHours),
  });
  return {
    stage: context.stage,
    isProduction,
    sesIdentity: context.sesIdentity,
    sesFromAddress: context.sesFromAddress,
    publicBaseUrl: context.publicBaseUrl?.replace(/\/+$/, ''),
    metaAppId: context.metaAppId,
    alarmEmail: context.alarmEmail,
    logRetention: retentionDays as RetentionDays,
    mediaExpirationDays: context.mediaExpirationDays,
    api: { rateLimit: context.apiRateLimit, burstLimit: context.apiBurstLimit },
    qr: { shards: context.qrShards, sessionsPerTask: context.qrSessionsPerTask },
    functionSettings: {
      GRAPH_API_VERSION: config.GRAPH_API_VERSION,
      OPENAI_MODEL: config.OPENAI_MODEL,
      RETENTION_HOURS: String(config.RETENTION_HOURS),
    },
  };
}
