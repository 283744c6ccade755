import { createSqsClient } from '../aws/sqs-client.ts';
import type { AnswerDeps } from '../conversation/answer-attempt.ts';
import type { ReplyBursts } from '../conversation/burst-ports.ts';
import { BurstStore } from '../conversation/burst-store.ts';
import { SqsBurstWakeups } from '../conversation/burst-wakeup-queue.ts';
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
  return {
    ...base,
    sender: buildSender(base.config),
    responder: await buildResponder(base.config),
    platformWhatsAppToken: () => readPlatformSecret('WHATSAPP_ACCESS_TOKEN'),
    retentionHours: base.config.RETENTION_HOURS,
    stats: new DynamoStatsStore(base.dynamo, base.config.TABLE_NAME),
    templates: buildTemplateCatalog(base),
    ...(bursts ? { bursts } : {}),
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
