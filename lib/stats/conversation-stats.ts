import { logger } from '../logger.ts';
import { RESPONDERS, type ResponderKind } from '../observability/metric-catalog.ts';

/**
 * Per-tenant conversation statistics: the port the assistant's use case records through, and the
 * arithmetic of its counters. Only counts and a time are kept: no contact, no text, nothing personal.
 * The DynamoDB adapter is dynamo-stats-store.ts; the operator reads the sums at GET /admin/stats.
 */

/** What one handled customer message adds to its tenant's statistics. */
export interface MessageTally {
  /**
   * When the customer's message was received. It picks the hour the message is counted in (so all
   * of one message's counts land in one bucket, however late it is answered) and, with
   * `messagesIn`, becomes the tenant's `last_message_at` if no later message was recorded.
   */
  at: Date;
  /** Customer messages received (1 for one message). */
  messagesIn?: number;
  /** Who produced the answer, when a responder answered it. */
  answered?: ResponderKind;
  /** OpenAI tokens billed for the answer. */
  inputTokens?: number;
  outputTokens?: number;
  /** Audio seconds sent to transcription (whole seconds, rounded up). */
  transcriptionSeconds?: number;
  /** Images (and PDFs) given to the model with the message. */
  imageInputs?: number;
}

/** A message Meta bills, as its first status with `pricing` said. */
export interface BillableMessage {
  /** The wamid: each is counted once, whatever number of statuses carry its pricing. */
  messageId: string;
  /** The status's time: picks the UTC day it is counted in. */
  at: Date;
  /** Meta's pricing category (marketing, utility, authentication, service…). */
  category: string;
}

export interface ConversationStats {
  /** Adds a message's counts to its tenant's current statistics (atomically; safe in parallel). */
  record(tenantId: string, tally: MessageTally): Promise<void>;
  /** Counts a billable message in its day, once per message id (a store without daily items: absent). */
  recordBillable?(tenantId: string, message: BillableMessage): Promise<void>;
}

/** The daily counter of a billing category: `billable_<category>`, an unknown spelling as `other`. */
export function billableCounter(category: string): string {
  const clean = category.toLowerCase();
  return `${BILLABLE_PREFIX}${/^[a-z_]{1,40}$/.test(clean) ? clean : 'other'}`;
}

export const BILLABLE_PREFIX = 'billable_';

/** The billable messages per category of a stored day. */
export function billableOf(item: Record<string, unknown>): Record<string, number> {
  const byCategory: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(BILLABLE_PREFIX) && typeof value === 'number' && Number.isFinite(value)) {
      byCategory[name.slice(BILLABLE_PREFIX.length)] = value;
    }
  }
  return byCategory;
}

/** Two days' (or sums') billable counts added up. */
export function addBillable(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [category, count] of Object.entries(b)) sum[category] = (sum[category] ?? 0) + count;
  return sum;
}

/** The counters an hour keeps; `answered` is the sum of the `answered_<responder>` ones. */
export type Counter =
  | 'messages_in'
  | 'answered'
  | `answered_${ResponderKind}`
  | 'input_tokens'
  | 'output_tokens'
  | 'transcription_seconds'
  | 'image_inputs';

export const answeredBy = (kind: ResponderKind): Counter => `answered_${kind}`;

export const COUNTERS: readonly Counter[] = [
  'messages_in',
  'answered',
  ...RESPONDERS.map(answeredBy),
  'input_tokens',
  'output_tokens',
  'transcription_seconds',
  'image_inputs',
];

/** What one tally adds to each counter; counters it does not touch are absent. */
export type Increments = Partial<Record<Counter, number>>;

function amount(value: number | undefined, what: string): number {
  const counted = value ?? 0;
  if (!Number.isSafeInteger(counted) || counted < 0) {
    throw new RangeError(`${what} must be a whole number, 0 or more (got ${value})`);
  }
  return counted;
}

/**
 * The counter increments of a tally. A bad tally (a negative or fractional count, an unknown
 * responder, an invalid time) is a caller's bug: it throws rather than write a wrong sum.
 */
export function incrementsOf(tally: MessageTally): Increments {
  if (!(tally.at instanceof Date) || Number.isNaN(tally.at.getTime())) {
    throw new RangeError('a tally needs the valid time its message was received at');
  }
  const increments: Increments = {};
  const add = (counter: Counter, value: number) => {
    if (value > 0) increments[counter] = value;
  };
  add('messages_in', amount(tally.messagesIn, 'messagesIn'));
  if (tally.answered !== undefined) {
    if (!RESPONDERS.includes(tally.answered)) throw new RangeError(`unknown responder ${tally.answered}`);
    add('answered', 1);
    add(answeredBy(tally.answered), 1);
  }
  add('input_tokens', amount(tally.inputTokens, 'inputTokens'));
  add('output_tokens', amount(tally.outputTokens, 'outputTokens'));
  add('transcription_seconds', amount(tally.transcriptionSeconds, 'transcriptionSeconds'));
  add('image_inputs', amount(tally.imageInputs, 'imageInputs'));
  return increments;
}

/** A tenant's counters summed over some hours. */
export interface TenantCounters {
  messages_in: number;
  answered: number;
  by_responder: Record<ResponderKind, number>;
  input_tokens: number;
  output_tokens: number;
  /** Audio seconds sent to transcription. */
  transcription_seconds: number;
  /** Images (and PDFs) given to the model. */
  image_inputs: number;
  /** ISO time of the latest message received in those hours; null when there was none. */
  last_message_at: string | null;
}

export function noCounters(): TenantCounters {
  return {
    messages_in: 0,
    answered: 0,
    by_responder: { openai: 0, faq: 0, fallback: 0, declined: 0 },
    input_tokens: 0,
    output_tokens: 0,
    transcription_seconds: 0,
    image_inputs: 0,
    last_message_at: null,
  };
}

const countOf = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** The counters of one stored hour; a counter the hour never got is 0. */
export function countersOfHour(item: Record<string, unknown>): TenantCounters {
  const byResponder = noCounters().by_responder;
  for (const kind of RESPONDERS) byResponder[kind] = countOf(item[answeredBy(kind)]);
  return {
    messages_in: countOf(item.messages_in),
    answered: countOf(item.answered),
    by_responder: byResponder,
    input_tokens: countOf(item.input_tokens),
    output_tokens: countOf(item.output_tokens),
    transcription_seconds: countOf(item.transcription_seconds),
    image_inputs: countOf(item.image_inputs),
    last_message_at: typeof item.last_message_at === 'string' ? item.last_message_at : null,
  };
}

/** ISO times of one format compare as strings; null is "never". */
const later = (a: string | null, b: string | null): string | null =>
  a === null || (b !== null && b > a) ? b : a;

export function addCounters(a: TenantCounters, b: TenantCounters): TenantCounters {
  const byResponder = noCounters().by_responder;
  for (const kind of RESPONDERS) byResponder[kind] = a.by_responder[kind] + b.by_responder[kind];
  return {
    messages_in: a.messages_in + b.messages_in,
    answered: a.answered + b.answered,
    by_responder: byResponder,
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    transcription_seconds: a.transcription_seconds + b.transcription_seconds,
    image_inputs: a.image_inputs + b.image_inputs,
    last_message_at: later(a.last_message_at, b.last_message_at),
  };
}

/**
 * Statistics must never cost a customer their answer: a failed record is logged (tenant id and the
 * error only) and swallowed. The use case records through this.
 */
export function bestEffort(stats: ConversationStats): ConversationStats {
  return {
    async record(tenantId, tally) {
      try {
        await stats.record(tenantId, tally);
      } catch (error) {
        logger.warn('conversation statistics not recorded', { tenantId, error: String(error) });
      }
    },
    async recordBillable(tenantId, message) {
      try {
        await stats.recordBillable?.(tenantId, message);
      } catch (error) {
        logger.warn('billable message not counted', { tenantId, error: String(error) });
      }
    },
  };
}

/** Records nothing: for code paths (scripts, tools) that keep no statistics. */
export const noStats: ConversationStats = { record: async () => undefined };

/** Keeps every tally in memory: tests of the use case read `tallies`. */
export class InMemoryConversationStats implements ConversationStats {
  readonly tallies: Array<{ tenantId: string; tally: MessageTally }> = [];
  /** Billable messages counted, once per message id like the real store. */
  readonly billable: Array<{ tenantId: string; message: BillableMessage }> = [];

  async recordBillable(tenantId: string, message: BillableMessage): Promise<void> {
    if (this.billable.some((b) => b.tenantId === tenantId && b.message.messageId === message.messageId))
      return;
    this.billable.push({ tenantId, message });
  }

  async record(tenantId: string, tally: MessageTally): Promise<void> {
    incrementsOf(tally); // refuses the same bad tallies the real store refuses
    this.tallies.push({ tenantId, tally });
  }
}
