import { describe, expect, it } from 'vitest';
import {
  addCounters,
  bestEffort,
  COUNTERS,
  type ConversationStats,
  countersOfHour,
  incrementsOf,
  noCounters,
} from '../../lib/stats/conversation-stats.ts';
import type { StatsReader } from '../../lib/stats/dynamo-stats-store.ts';
import type { HourWindow } from '../../lib/stats/hour-buckets.ts';
import { fallbackRate, statsReport } from '../../lib/stats/stats-report.ts';
import { statsReportSchema } from '../../lib/stats/stats-schemas.ts';

const at = new Date('2026-12-01T19:42:00.000Z');

describe('incrementsOf', () => {
  it('given a message answered by OpenAI with tokens, then it adds to those counters only', () => {
    expect(
      incrementsOf({ at, messagesIn: 1, answered: 'openai', inputTokens: 120, outputTokens: 40 }),
    ).toEqual({
      messages_in: 1,
      answered: 1,
      answered_openai: 1,
      input_tokens: 120,
      output_tokens: 40,
    });
  });

  it('given a media tally (no message of its own), then only the media counters', () => {
    expect(incrementsOf({ at, transcriptionSeconds: 14, imageInputs: 2 })).toEqual({
      transcription_seconds: 14,
      image_inputs: 2,
    });
    expect(incrementsOf({ at, transcriptionSeconds: 0, imageInputs: 0 })).toEqual({});
  });

  it('given a message that got no answer, then only messages_in', () => {
    expect(incrementsOf({ at, messagesIn: 1 })).toEqual({ messages_in: 1 });
  });

  it('given a fallback, then it counts as answered and as a fallback', () => {
    expect(incrementsOf({ at, messagesIn: 1, answered: 'fallback' })).toEqual({
      messages_in: 1,
      answered: 1,
      answered_fallback: 1,
    });
  });

  it.each([
    ['a negative count', { messagesIn: -1 }],
    ['a fractional count', { inputTokens: 1.5 }],
    ['a count that is not a number', { outputTokens: Number.NaN }],
    ['an unknown responder', { answered: 'gpt' as never }],
    ['negative transcription seconds', { transcriptionSeconds: -3 }],
    ['fractional transcription seconds (the caller rounds up)', { transcriptionSeconds: 2.4 }],
    ['a negative image count', { imageInputs: -1 }],
    ['a fractional image count', { imageInputs: 0.5 }],
    ['an image count that is not a number', { imageInputs: Number.POSITIVE_INFINITY }],
  ])('given %s, then it refuses (a wrong sum is worse than none)', (_, tally) => {
    expect(() => incrementsOf({ at, ...tally })).toThrow(RangeError);
  });

  it('given an invalid time, then it refuses', () => {
    expect(() => incrementsOf({ at: new Date('nope'), messagesIn: 1 })).toThrow(RangeError);
  });

  it('names every counter an increment may touch', () => {
    const all = incrementsOf({
      at,
      messagesIn: 1,
      answered: 'faq',
      inputTokens: 1,
      outputTokens: 1,
      transcriptionSeconds: 1,
      imageInputs: 1,
    });
    for (const counter of Object.keys(all)) expect(COUNTERS).toContain(counter);
    expect(Object.keys(all)).toHaveLength(7);
    expect(COUNTERS).toHaveLength(10);
  });
});

describe('summing hours', () => {
  it('given stored hours, then missing counters count 0 and the latest message time wins', () => {
    const a = countersOfHour({
      messages_in: 3,
      answered: 2,
      answered_faq: 2,
      last_message_at: '2026-12-01T18:10:00.000Z',
    });
    const b = countersOfHour({
      messages_in: 1,
      answered_declined: 1,
      answered: 1,
      input_tokens: 5,
      transcription_seconds: 31,
    });
    const c = countersOfHour({
      messages_in: 1,
      last_message_at: '2026-12-01T19:01:00.000Z',
      transcription_seconds: 9,
      image_inputs: 3,
    });
    const sum = [a, b, c].reduce(addCounters, noCounters());
    expect(sum).toEqual({
      messages_in: 5,
      answered: 3,
      by_responder: { openai: 0, faq: 2, fallback: 0, declined: 1 },
      input_tokens: 5,
      output_tokens: 0,
      transcription_seconds: 40,
      image_inputs: 3,
      last_message_at: '2026-12-01T19:01:00.000Z',
    });
  });
});

describe('fallbackRate', () => {
  it('given nothing answered, then null (not 0, not NaN)', () => {
    expect(fallbackRate(noCounters())).toBeNull();
  });

  it('given 1 fallback in 3 answers, then 0.3333', () => {
    const counters = {
      ...noCounters(),
      answered: 3,
      by_responder: { openai: 2, faq: 0, fallback: 1, declined: 0 },
    };
    expect(fallbackRate(counters)).toBe(0.3333);
  });
});

describe('statsReport', () => {
  const reader = (
    sums: Record<string, ReturnType<typeof noCounters>>,
  ): StatsReader & { windows: HourWindow[] } => {
    const windows: HourWindow[] = [];
    return {
      windows,
      async sumWindow(ids, window) {
        windows.push(window);
        return new Map(ids.filter((id) => sums[id]).map((id) => [id, sums[id]!]));
      },
    };
  };

  it('given two clients, one with no statistics, then zeros for it and totals from the summed counts', async () => {
    const busy = {
      ...noCounters(),
      messages_in: 4,
      answered: 4,
      by_responder: { openai: 3, faq: 0, fallback: 1, declined: 0 },
      transcription_seconds: 75,
      image_inputs: 2,
      last_message_at: '2026-12-01T19:00:00.000Z',
    };
    const source = reader({ cl_busy: busy, cl_media: { ...noCounters(), image_inputs: 1 } });
    const report = await statsReport(
      [
        { id: 'cl_busy', name: 'Busy', active: true },
        { id: 'cl_quiet', name: 'Quiet', active: false },
        { id: 'cl_media', name: 'Media', active: true },
      ],
      source,
      at,
    );
    expect(statsReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({
      window_hours: 24,
      since: '2026-11-30T20:00:00.000Z',
      until: at.toISOString(),
    });
    expect(source.windows[0]).toMatchObject({ first: '2026-11-30T20', last: '2026-12-01T19' });
    expect(report.tenants[1]).toMatchObject({
      client_id: 'cl_quiet',
      active: false,
      messages_in: 0,
      fallback_rate: null,
      transcription_seconds: 0,
      image_inputs: 0,
    });
    expect(report.tenants[0]).toMatchObject({ transcription_seconds: 75, image_inputs: 2 });
    expect(report.totals).toMatchObject({
      messages_in: 4,
      fallbacks: 1,
      fallback_rate: 0.25,
      transcription_seconds: 75,
      image_inputs: 3,
    });
  });
});

describe('bestEffort', () => {
  it('given a store that fails, then recording resolves (the answer goes on)', async () => {
    const failing: ConversationStats = {
      record: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    await expect(bestEffort(failing).record('cl_a', { at, messagesIn: 1 })).resolves.toBeUndefined();
  });
});
