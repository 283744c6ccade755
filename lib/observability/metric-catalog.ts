/**
 * Every CloudWatch metric the functions emit (Embedded Metric Format through Powertools Metrics),
 * with its unit and the one low-cardinality dimension it may carry besides `service`. The functions
 * emit from this list and the CDK dashboard and alarms read from it, so a renamed metric cannot leave
 * an alarm watching nothing. No metric carries personal data or a per-customer dimension; the tenant
 * id travels as metadata (searchable in the logs, not a dimension).
 */
import type { SendFailureKind } from '../conversation/ports.ts';

export const METRICS_NAMESPACE = 'WaAssistant';

/** Who produced an answer: OpenAI, the FAQ responder, the FAQ responder after OpenAI failed, or a decline. */
export const RESPONDERS = ['openai', 'faq', 'fallback', 'declined'] as const;
export type ResponderKind = (typeof RESPONDERS)[number];

/**
 * Graph send failures by kind: exactly the sender port's failure kinds, one dashboard series each.
 * `satisfies` makes this fail to compile when a kind is added to the port and not here (or the
 * reverse), so an alarm can never watch a kind nobody emits.
 */
const GRAPH_ERROR_MEANINGS = {
  rate_limited: 'throughput limit: retried',
  pair_rate_limited: 'too many messages to one customer: retried later',
  unavailable: 'server error or network failure before the request left: retried',
  ambiguous: 'outcome unknown (timeout after sending): never repeated',
  window_closed: '24-hour window closed: not retried',
  spam_paused: 'spam limit: the tenant pauses sending',
  token_invalid: 'access token expired or revoked: tenant flagged',
  permanent: 'anything else: not retried',
} as const satisfies Record<SendFailureKind, string>;

export type GraphErrorKind = keyof typeof GRAPH_ERROR_MEANINGS;
export const GRAPH_ERROR_KINDS = Object.keys(GRAPH_ERROR_MEANINGS) as readonly GraphErrorKind[];

/** Why customer media was not taken in: the `kind` of MediaRefused (a fixed, small set). */
export const MEDIA_REFUSAL_KINDS = [
  'too_large',
  'mime_not_allowed',
  'sha256_mismatch',
  'not_found',
  'daily_limit',
  'audio_too_long',
  'unsupported_format',
  'transcription',
] as const;
export type MediaRefusalKind = (typeof MEDIA_REFUSAL_KINDS)[number];

type Unit = 'Count' | 'Milliseconds';

interface MetricDefinition {
  /** The function (Powertools service name) that emits it. */
  service: 'webhook' | 'assistant' | 'reply-burst' | 'provisioner' | 'purge' | 'qr-runner';
  unit: Unit;
  dimension?: 'responder' | 'kind';
  description: string;
}

export const metricCatalog = {
  WebhookDeliveries: { service: 'webhook', unit: 'Count', description: 'Signed webhook POSTs accepted' },
  SignatureRejected: {
    service: 'webhook',
    unit: 'Count',
    description: 'Webhook POSTs refused for a missing or wrong X-Hub-Signature-256',
  },
  MessagesEnqueued: {
    service: 'webhook',
    unit: 'Count',
    description: 'Customer messages and delivery statuses put on the inbound queue',
  },
  ItemsDropped: {
    service: 'webhook',
    unit: 'Count',
    description: 'Messages or statuses of a delivery refused as invalid (logged at WARN)',
  },
  MessagesAnswered: {
    service: 'assistant',
    unit: 'Count',
    dimension: 'responder',
    description: 'Customer messages answered, by responder',
  },
  ResponderLatency: {
    service: 'assistant',
    unit: 'Milliseconds',
    dimension: 'responder',
    description: 'Time to compose an answer, by responder',
  },
  OpenAIInputTokens: { service: 'assistant', unit: 'Count', description: 'OpenAI input tokens billed' },
  OpenAIOutputTokens: { service: 'assistant', unit: 'Count', description: 'OpenAI output tokens billed' },
  TranscriptionSeconds: {
    service: 'assistant',
    unit: 'Count',
    description: "Seconds of customers' voice notes and audio sent to transcription",
  },
  ImageInputs: {
    service: 'assistant',
    unit: 'Count',
    description: 'Images and documents of customer messages given to the model',
  },
  MediaRefused: {
    service: 'assistant',
    unit: 'Count',
    dimension: 'kind',
    description:
      'Customer media not processed, by kind of refusal (too large, wrong type, sha256, daily cap...)',
  },
  GraphErrors: {
    service: 'assistant',
    unit: 'Count',
    dimension: 'kind',
    description: 'Graph API send failures, by kind',
  },
  RepliesSent: {
    service: 'assistant',
    unit: 'Count',
    description: 'Message parts accepted by the Graph API',
  },
  DuplicatesSuppressed: {
    service: 'assistant',
    unit: 'Count',
    description: 'Redelivered messages recognised by their claim and not answered again',
  },
  StatusesRecorded: { service: 'assistant', unit: 'Count', description: 'Delivery statuses recorded' },
  MessagesCollected: {
    service: 'assistant',
    unit: 'Count',
    description: "Customer messages that joined their contact's reply burst (reply_delay_seconds > 0)",
  },
  BurstsAnswered: {
    service: 'reply-burst',
    unit: 'Count',
    description: 'Reply bursts answered with one reply by the wake-up consumer',
  },
  StaleWakeupsDropped: {
    service: 'reply-burst',
    unit: 'Count',
    description: 'Burst wake-ups dropped because a later message moved the burst on, or it was answered',
  },
  AssistantsProvisioned: { service: 'provisioner', unit: 'Count', description: 'Assistant versions built' },
  ProvisioningFailures: {
    service: 'provisioner',
    unit: 'Count',
    description: 'Assistant builds that failed',
  },
  PurgeRuns: { service: 'purge', unit: 'Count', description: 'Purge runs finished' },
  PurgeItemsDeleted: { service: 'purge', unit: 'Count', description: 'Items deleted by purge runs' },
  QrSessionFailed: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'QR sessions given up after repeated restarts (state failed)',
  },
  QrSessionRestarts: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'QR sessions restarted after browser, page or network loss',
  },
  QrLeaseAcquired: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'QR shard leases taken by a runner task',
  },
  QrLeaseLost: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'QR shard leases lost by their holder (its sessions stopped without saving)',
  },
  QrMessagesReceived: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'Customer messages QR sessions put on the inbound queue',
  },
  QrCommandsSent: { service: 'qr-runner', unit: 'Count', description: 'Replies QR sessions sent' },
  QrCommandsExpired: {
    service: 'qr-runner',
    unit: 'Count',
    description: 'Commands dropped because they were found after their expiry',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof metricCatalog;
