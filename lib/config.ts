import * as z from 'zod';

/**
 * The process configuration, parsed once. Names and URLs come from the environment; secrets come
 * from the environment only locally — in AWS each secret variable is replaced by `<NAME>_SECRET_ARN`
 * and read from Secrets Manager (see secrets/platform-secrets.ts).
 */
const envSchema = z.object({
  TABLE_NAME: z.string().min(1).default('wa-assistant'),
  INBOUND_QUEUE_URL: z.string().min(1).optional(),
  PROVISION_QUEUE_URL: z.string().min(1).optional(),
  GRAPH_API_BASE_URL: z.string().url().default('https://graph.facebook.com'),
  GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v26.0'),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-5-mini'),
  /** Per attempt; three attempts (two retries) stay within the assistant's 90 s timeout. */
  OPENAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  OPENAI_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  OPENAI_BACKOFF_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** Hours messages and conversation records are kept (the purge enforces it). */
  RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 365)
    .default(24),
  /** The KMS key for tenant secrets (AWS); absent locally. */
  TENANT_SECRETS_KMS_KEY_ID: z.string().optional(),
  /** The local AES key for tenant secrets (local stack and tests). */
  LOCAL_SECRETS_KEY: z.string().min(16).optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** The S3 bucket of tenants' media (objects under `<tenant id>/`). */
  MEDIA_BUCKET_NAME: z.string().min(3).optional(),
});

export type AppConfig = z.infer<typeof envSchema>;

export function parseConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${fields}`);
  }
  return parsed.data;
}
