import { createS3Client } from '../aws/s3-client.ts';
import { createSqsClient } from '../aws/sqs-client.ts';
import type { AnswerDeps } from '../conversation/answer-attempt.ts';
import type { ReplyBursts } from '../conversation/burst-ports.ts';
import { BurstStore } from '../conversation/burst-store.ts';
import { SqsBurstWakeups } from '../conversation/burst-wakeup-queue.ts';
import type { MediaDeps } from '../conversation/media-understanding.ts';
import { createCustomerMedia } from '../media/customer-media.ts';
import { DynamoMediaQuota } from '../media/media-quota.ts';
import { createOpenAiTranscriber } from '../openai/transcriber.ts';
import { readPlatformSecret } from '../secrets/platform-secrets.ts';
import { DynamoStatsStore } from '../stats/dynamo-stats-store.ts';
import {
  buildDependencies,
  buildResponder,
  buildSender,
  buildTemplateCatalog,
  type Dependencies,
} from './dependencies.ts';

/**
 * The conversation use case's dependencies, shared by the inbound consumer (functions/assistant.ts)
 * and the burst wake-up consumer (functions/reply-burst.ts): both answer customers the same way.
 */
export async function buildAnswerDependencies(): Promise<AnswerDeps> {
  const base = buildDependencies();
  const bursts = buildReplyBursts(base);
  const media = buildMediaDependencies(base);
  return {
    ...base,
    sender: buildSender(base.config),
    responder: await buildResponder(base.config),
    platformWhatsAppToken: () => readPlatformSecret('WHATSAPP_ACCESS_TOKEN'),
    retentionHours: base.config.RETENTION_HOURS,
    stats: new DynamoStatsStore(base.dynamo, base.config.TABLE_NAME),
    templates: buildTemplateCatalog(base),
    ...(bursts ? { bursts } : {}),
    ...(media ? { media } : {}),
  };
}

/**
 * Customers' media, when the deployment has the media bucket (MEDIA_BUCKET_NAME): fetched from the
 * Graph API (or where a QR runner kept it) into the bucket, transcribed with the tenant's or the
 * platform's OpenAI key, capped per tenant and day. Without the bucket media gets the polite reply.
 */
export function buildMediaDependencies(base: Dependencies): MediaDeps | undefined {
  const { config } = base;
  if (!config.MEDIA_BUCKET_NAME) return undefined;
  return {
    fetcher: createCustomerMedia({
      s3: createS3Client(config),
      bucket: config.MEDIA_BUCKET_NAME,
      graphBaseUrl: config.GRAPH_API_BASE_URL,
      graphVersion: config.GRAPH_API_VERSION,
    }),
    transcriber: createOpenAiTranscriber({
      platformApiKey: () => readPlatformSecret('OPENAI_API_KEY'),
      model: config.OPENAI_TRANSCRIPTION_MODEL,
      timeoutMs: config.OPENAI_TIMEOUT_MS,
      retries: config.OPENAI_RETRIES,
      backoffMs: config.OPENAI_BACKOFF_MS,
      ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
    }),
    quota: new DynamoMediaQuota(base.dynamo, config.TABLE_NAME),
  };
}

/** The debounce, when the deployment has the wake-up queue (REPLY_BURST_QUEUE_URL); else none. */
export function buildReplyBursts(base: Dependencies): ReplyBursts | undefined {
  const queueUrl = base.config.REPLY_BURST_QUEUE_URL;
  if (!queueUrl) return undefined;
  return {
    store: new BurstStore(base.dynamo, base.config.TABLE_NAME),
    wakeups: new SqsBurstWakeups(createSqsClient(base.config), queueUrl),
    contacts: base.conversations,
  };
}
