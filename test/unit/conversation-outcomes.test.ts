import { describe, expect, it } from 'vitest';
import {
  metricsSink,
  type OutcomeSink,
  reportOutcome,
  responderKindOf,
} from '../../lib/conversation/outcomes.ts';
import type { SendFailureKind } from '../../lib/conversation/ports.ts';
import { GRAPH_ERROR_KINDS } from '../../lib/observability/metric-catalog.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';

/**
 * Every kind of the sender port, written out: the type makes this list exactly the port's kinds
 * (a missing or an extra one does not compile), and the test holds the catalogue to it at runtime.
 */
const SEND_FAILURE_KINDS: Record<SendFailureKind, true> = {
  rate_limited: true,
  pair_rate_limited: true,
  unavailable: true,
  ambiguous: true,
  window_closed: true,
  spam_paused: true,
  token_invalid: true,
  permanent: true,
};

describe('given the outcomes the conversation reports', () => {
  it('then the catalogue has a Graph error series for exactly the send failure kinds of the port', () => {
    expect([...GRAPH_ERROR_KINDS].sort()).toEqual(Object.keys(SEND_FAILURE_KINDS).sort());
  });

  it('when every kind of send failure is reported, then each is counted under its own kind', () => {
    const telemetry = new InMemoryTelemetry();
    const sink = metricsSink(telemetry);
    for (const kind of GRAPH_ERROR_KINDS) sink.record({ type: 'send_failed', tenantId: 't', kind });

    for (const kind of GRAPH_ERROR_KINDS) expect(telemetry.total('GraphErrors', kind)).toBe(1);
  });

  it('when a reply is classified, then a failed primary wins over a decline, and a decline over the source', () => {
    expect(responderKindOf({ text: 'x', source: 'openai' })).toBe('openai');
    expect(responderKindOf({ text: 'x', source: 'faq' })).toBe('faq');
    expect(responderKindOf({ text: 'x', source: 'faq', declined: 'off-topic' })).toBe('declined');
    expect(
      responderKindOf({ text: 'x', source: 'faq', declined: 'low-confidence', fallbackReason: 'timeout' }),
    ).toBe('fallback');
  });

  it('when a sink fails, then the others still record and the report does not fail', async () => {
    const telemetry = new InMemoryTelemetry();
    const broken: OutcomeSink = {
      record: async () => {
        throw new Error('stats table unavailable');
      },
    };

    await reportOutcome([broken, metricsSink(telemetry)], { type: 'reply_sent', tenantId: 't' });

    expect(telemetry.total('RepliesSent')).toBe(1);
  });
});
