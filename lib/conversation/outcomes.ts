import { logger } from '../logger.ts';
import type { MediaRefusalKind, ResponderKind } from '../observability/metric-catalog.ts';
import { noTelemetry, type Telemetry } from '../observability/telemetry.ts';
import type { ConversationStats } from '../stats/conversation-stats.ts';
import type { ResponderReply, SendFailureKind } from './ports.ts';

/**
 * What the conversation use case tells the outside world happened, once per fact, and the sinks
 * that listen: the CloudWatch metrics now; the per-tenant statistics are one more sink in
 * {@link outcomeSinks}. The facts carry the tenant id and counts only, never a contact or text.
 */

/** A customer message the responder composed an answer for (reported once its plan is stored). */
export interface AnsweredOutcome {
  type: 'answered';
  tenantId: string;
  /** When the customer's message was received (picks the hour a per-tenant statistic counts it in). */
  receivedAt: Date;
  responder: ResponderKind;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
}

export type ReportedOutcome =
  | AnsweredOutcome
  /** One reply part the platform accepted. */
  | { type: 'reply_sent'; tenantId: string }
  /** A send that ended in a failure, whether or not the message is retried later. */
  | { type: 'send_failed'; tenantId: string; kind: SendFailureKind }
  /** A redelivery of a message already handled, recognised by its claim. */
  | { type: 'duplicate_suppressed'; tenantId: string }
  | { type: 'status_recorded'; tenantId: string }
  /** A customer message that joined its contact's reply burst instead of being answered alone. */
  | { type: 'message_collected'; tenantId: string }
  /** A burst wake-up dropped: the burst moved on (a later message) or was answered already. */
  | { type: 'wakeup_dropped'; tenantId: string }
  /** A message Meta bills, from a status with `pricing` (counted once per message by the stats). */
  | { type: 'message_billed'; tenantId: string; messageId: string; at: Date; category: string }
  /**
   * Media of a customer message processed for its answer (a transcription, images or files given
   * to the model): once per message, once its plan is stored, like `answered`.
   */
  | MediaProcessedOutcome
  /** Media not taken in (Meta's limits, the daily cap, a failed transcription...): the reason only. */
  | { type: 'media_refused'; tenantId: string; reason: MediaRefusalKind }
  | HandledOutcome
  | BurstHandledOutcome;

export interface MediaProcessedOutcome {
  type: 'media_processed';
  tenantId: string;
  receivedAt: Date;
  /** Audio seconds transcribed (rounded up); 0 when none. */
  transcriptionSeconds: number;
  /** Images and files given to the model; 0 when none. */
  imageInputs: number;
}

/**
 * A customer message whose handling ended (its claim completed): once per message. `answered` is
 * there when this attempt's responder composed the answer; a takeover that resumed a stored plan
 * does not know who composed it, so the message then counts as received but not as answered.
 */
export interface HandledOutcome {
  type: 'message_handled';
  tenantId: string;
  receivedAt: Date;
  answered?: AnsweredOutcome;
}

/**
 * A reply burst whose handling ended (its claim completed): once per burst. Its messages are
 * counted in one by one (`message_handled`); the burst carries the answer, when there was one.
 */
export interface BurstHandledOutcome {
  type: 'burst_handled';
  tenantId: string;
  /** When the burst's first message was received. */
  receivedAt: Date;
  replied: boolean;
  answered?: AnsweredOutcome;
}

export interface OutcomeSink {
  record(outcome: ReportedOutcome): void | Promise<void>;
}

/**
 * Who composed a reply, as the metrics count it. A fallback is counted as such even when it
 * declined: the fallback rate is the alarm on OpenAI failing, and what the customer asked must not
 * hide that.
 */
export function responderKindOf(reply: ResponderReply): ResponderKind {
  if (reply.fallbackReason !== undefined) return 'fallback';
  if (reply.declined) return 'declined';
  return reply.source;
}

/** The sink of the CloudWatch metrics (lib/observability/metric-catalog.ts). */
export function metricsSink(telemetry: Telemetry): OutcomeSink {
  return {
    record(outcome) {
      switch (outcome.type) {
        case 'answered':
          telemetry.count('MessagesAnswered', 1, outcome.responder);
          telemetry.duration('ResponderLatency', outcome.latencyMs, outcome.responder);
          // Zero tokens (the FAQ responder) would only add empty data points.
          if (outcome.inputTokens > 0) telemetry.count('OpenAIInputTokens', outcome.inputTokens);
          if (outcome.outputTokens > 0) telemetry.count('OpenAIOutputTokens', outcome.outputTokens);
          return;
        case 'reply_sent':
          telemetry.count('RepliesSent');
          return;
        case 'send_failed':
          telemetry.count('GraphErrors', 1, outcome.kind);
          return;
        case 'duplicate_suppressed':
          telemetry.count('DuplicatesSuppressed');
          return;
        case 'status_recorded':
          telemetry.count('StatusesRecorded');
          return;
        case 'message_collected':
          telemetry.count('MessagesCollected');
          return;
        case 'wakeup_dropped':
          telemetry.count('StaleWakeupsDropped');
          return;
        case 'burst_handled':
          if (outcome.replied) telemetry.count('BurstsAnswered');
          return;
        case 'media_processed':
          if (outcome.transcriptionSeconds > 0) {
            telemetry.count('TranscriptionSeconds', outcome.transcriptionSeconds);
          }
          if (outcome.imageInputs > 0) telemetry.count('ImageInputs', outcome.imageInputs);
          return;
        case 'media_refused':
          telemetry.count('MediaRefused', 1, outcome.reason);
          return;
        case 'message_handled':
        case 'message_billed':
          return; // counted by the per-tenant statistics
      }
    },
  };
}

/**
 * The sink of the per-tenant 24 h statistics (GET /admin/stats): one write per handled message,
 * with what it was answered by and the tokens it cost.
 */
export function statsSink(stats: ConversationStats): OutcomeSink {
  return {
    async record(outcome) {
      if (outcome.type === 'message_billed') {
        const { messageId, at, category } = outcome;
        await stats.recordBillable?.(outcome.tenantId, { messageId, at, category });
        return;
      }
      if (outcome.type === 'media_processed') {
        await stats.record(outcome.tenantId, {
          at: outcome.receivedAt,
          transcriptionSeconds: outcome.transcriptionSeconds,
          imageInputs: outcome.imageInputs,
        });
        return;
      }
      if (outcome.type !== 'message_handled' && outcome.type !== 'burst_handled') return;
      const { answered } = outcome;
      // A burst's messages were counted in as they were handled; the burst adds its answer only.
      if (outcome.type === 'burst_handled' && !answered) return;
      await stats.record(outcome.tenantId, {
        at: outcome.receivedAt,
        ...(outcome.type === 'message_handled' ? { messagesIn: 1 } : {}),
        ...(answered
          ? {
              answered: answered.responder,
              inputTokens: answered.inputTokens,
              outputTokens: answered.outputTokens,
            }
          : {}),
      });
    },
  };
}

/** Where the use case's outcomes go. */
export function outcomeSinks(deps: { telemetry?: Telemetry; stats?: ConversationStats }): OutcomeSink[] {
  return [metricsSink(deps.telemetry ?? noTelemetry), ...(deps.stats ? [statsSink(deps.stats)] : [])];
}

/**
 * Gives an outcome to every sink. Reporting never fails the message: a sink that throws (a stats
 * write that timed out) is logged and the answer goes on.
 */
export async function reportOutcome(sinks: readonly OutcomeSink[], outcome: ReportedOutcome): Promise<void> {
  await Promise.all(
    sinks.map(async (sink) => {
      try {
        await sink.record(outcome);
      } catch (error) {
        logger.warn('outcome not recorded', {
          tenantId: outcome.tenantId,
          outcome: outcome.type,
          error: error instanceof Error ? error.name : 'unknown',
        });
      }
    }),
  );
}
