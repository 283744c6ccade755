import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini (tree-shakable, a fraction of classic zod's import time) loads no locale: English
// messages, as classic zod gives, for the errors below.
z.config(en());

/**
 * The process configuration: the one place that reads `process.env`. Each function parses it once,
 * when its dependencies are first built (its cold start), naming the variables it cannot work
 * without; a missing one fails that cold start with its name. Names and URLs come from the
 * environment; secrets come from the environment only locally — in AWS each secret variable is
 * replaced by `<NAME>_SECRET_ARN` and read from Secrets Manager (see secrets/platform-secrets.ts).
 */
const nonEmpty = z.string().check(z.minLength(1));
const url = z.string().check(z.url());
const optionalUrl = z.optional(url);
const optionalNonEmpty = z.optional(nonEmpty);
/** An integer from the environment (a string there), within bounds. */
const integer = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));

const envSchema = z.object({
  AWS_REGION: z._default(nonEmpty, 'us-east-1'),
  /** Emulator endpoints (local stack and tests); unset in AWS. */
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_ENDPOINT_URL_S3: optionalUrl,
  AWS_ENDPOINT_URL_SESV2: optionalUrl,
  /** How long a worker holds a message claim (ms); the default suits the assistant's timeout. */
  CLAIM_LEASE_MS: z.optional(integer(1_000, 900_000)),
  TABLE_NAME: optionalNonEmpty,
  INBOUND_QUEUE_URL: optionalNonEmpty,
  PROVISION_QUEUE_URL: optionalNonEmpty,
  /** The standard queue of reply-burst wake-ups: set, the assistant debounces bursts (reply-burst.ts). */
  REPLY_BURST_QUEUE_URL: optionalNonEmpty,
  GRAPH_API_BASE_URL: z._default(url, 'https://graph.facebook.com'),
  GRAPH_API_VERSION: z._default(z.string().check(z.regex(/^v\d+\.\d+$/)), 'v26.0'),
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z._default(nonEmpty, 'gpt-5-mini'),
  /** Per attempt; three attempts (two retries) stay within the assistant's 90 s timeout. */
  OPENAI_TIMEOUT_MS: z._default(integer(100, 60_000), 15_000),
  OPENAI_RETRIES: z._default(integer(0, 5), 2),
  OPENAI_BACKOFF_MS: z._default(integer(0, 10_000), 500),
  /** The model that transcribes customers' voice notes (OpenAI's transcription API). */
  OPENAI_TRANSCRIPTION_MODEL: z._default(nonEmpty, 'gpt-transcribe'),
  /** How closely the model looks at customers' pictures: `low` is cheapest (a fixed 85 tokens). */
  OPENAI_IMAGE_DETAIL: z._default(z.enum(['low', 'high', 'auto']), 'low'),
  /** Hours messages and conversation records are kept (the purge enforces it). */
  RETENTION_HOURS: z._default(integer(0, 24 * 365), 24),
  /** The KMS key for tenant secrets (AWS); absent locally. */
  TENANT_SECRETS_KMS_KEY_ID: z.optional(z.string()),
  /** The local AES key for tenant secrets (local stack and tests). */
  LOCAL_SECRETS_KEY: z.optional(z.string().check(z.minLength(16))),
  /** Where the deployment is reached (landing pages and invitation links live under it). */
  PUBLIC_BASE_URL: optionalUrl,
  /** The SES identity (a domain or one address) and configuration set invitations are sent with. */
  EMAIL_IDENTITY: z.optional(z.string()),
  SES_CONFIGURATION_SET: optionalNonEmpty,
  /** The sender of invitations; default the identity when it is an address, `no-reply@<domain>` else. */
  SES_FROM_ADDRESS: z.optional(z.string().check(z.email())),
  /** The platform's Meta app id: with the App Secret, lets the connection test ask `debug_token`. */
  META_APP_ID: z.optional(z.string().check(z.regex(/^\d{5,32}$/))),
  /** The S3 bucket of tenants' media (objects under `<tenant id>/`). */
  MEDIA_BUCKET_NAME: z.optional(z.string().check(z.minLength(3))),
  /**
   * QR mode: the command queue of each shard, comma-separated (shard `i` is the `i`-th URL; the
   * number of URLs is the number of shards). Unset: QR mode is off on this deployment.
   */
  QR_COMMAND_QUEUE_URLS: z.optional(
    z.pipe(
      z.string(),
      z.transform((value) =>
        value
          .split(',')
          .map((url) => url.trim())
          .filter((url) => url.length > 0),
      ),
    ),
  ),
  /** The S3 bucket of QR sessions' snapshots (objects under `qr-sessions/<tenant id>/`). */
  QR_SESSION_BUCKET: z.optional(z.string().check(z.minLength(3))),
  /** Which engine hosts QR sessions: the simulated one (local stack, tests) or whatsapp-web.js. */
  QR_ENGINE: z._default(z.enum(['simulated', 'wwebjs']), 'simulated'),
  /** The most sessions one runner task hosts (its memory budget: ~600 MB each). */
  QR_SESSIONS_PER_TASK: z._default(integer(1, 100), 4),
  /** This runner task's name in shard leases (ECS: the task id); default host name + pid. */
  QR_RUNNER_ID: optionalNonEmpty,
  /** The Chromium whatsapp-web.js drives (Debian's). */
  CHROMIUM_PATH: z._default(nonEmpty, '/usr/bin/chromium'),
  /** Where a runner task keeps its sessions' browser profiles (local disk, never a network file system). */
  QR_PROFILE_DIR: z._default(nonEmpty, '/tmp/wa-profiles'),
  /** Set by ECS in a task's containers: the task metadata endpoint (the runner names itself by its task id). */
  ECS_CONTAINER_METADATA_URI_V4: optionalNonEmpty,
  /** Port of the runner task's /health. */
  QR_RUNNER_HEALTH_PORT: z._default(integer(1, 65_535), 8080),
});

export type AppConfig = z.infer<typeof envSchema>;

/** The variables a function names as required are present in what it gets back. */
export type ConfigWith<K extends keyof AppConfig> = AppConfig & { [P in K]-?: NonNullable<AppConfig[P]> };

/**
 * Parses and checks the environment. `required` lists what this function cannot work without
 * (e.g. the webhook's INBOUND_QUEUE_URL): a missing one is an error that names it.
 */
export function parseConfig<K extends keyof AppConfig = never>(
  env: NodeJS.ProcessEnv = process.env,
  required: readonly K[] = [],
): ConfigWith<K> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${fields}`);
  }
  const missing = required.filter((name) => parsed.data[name] === undefined);
  if (missing.length > 0) throw new Error(`missing required configuration: ${missing.join(', ')}`);
  return parsed.data as ConfigWith<K>;
}

/**
 * Where a platform secret comes from: its Secrets Manager ARN (AWS) or its plain value (local stack
 * and tests). Read at each call, because the local stack and the tests set them after start.
 */
export function secretSource(name: string, env: NodeJS.ProcessEnv = process.env) {
  const arn = env[`${name}_SECRET_ARN`];
  const value = env[name];
  return {
    ...(arn ? { arn } : {}),
    ...(value && value.length > 0 ? { value } : {}),
  };
}
