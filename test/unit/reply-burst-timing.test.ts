import { describe, expect, it } from 'vitest';
import { statsSink } from '../../lib/conversation/outcomes.ts';
import { REPLY_BURST_CAP_SECONDS, wakeupDelaySeconds } from '../../lib/conversation/reply-burst.ts';
import type { MessageTally } from '../../lib/stats/conversation-stats.ts';

describe('the wake-up delay of a reply burst', () => {
  const first = 1_000_000;

  it('is the tenant delay while the burst is young', () => {
    expect(wakeupDelaySeconds(3, first, first)).toBe(3);
    expect(wakeupDelaySeconds(30, first, first)).toBe(REPLY_BURST_CAP_SECONDS);
  });

  it('never reaches past the cap, rounded up so it arrives at or after it', () => {
    expect(wakeupDelaySeconds(3, first, first + 18_500)).toBe(2);
    expect(wakeupDelaySeconds(3, first, first + 19_999)).toBe(1);
    expect(wakeupDelaySeconds(3, first, first + 20_000)).toBe(0);
    expect(wakeupDelaySeconds(3, first, first + 60_000)).toBe(0);
  });
});

describe('the per-tenant statistics of a burst', () => {
  it('count each message in once and the burst answer once', async () => {
    const tallies: MessageTally[] = [];
    const sink = statsSink({ record: async (_tenant, tally) => void tallies.push(tally) });
    const at = new Date('2026-12-03T10:00:00Z');
    for (let i = 0; i < 3; i++) await sink.record({ type: 'message_handled', tenantId: 't', receivedAt: at });
    const answered = {
      type: 'answered',
      tenantId: 't',
      receivedAt: at,
      responder: 'faq',
      latencyMs: 5,
      inputTokens: 0,
      outputTokens: 0,
    } as const;
    await sink.record({ type: 'burst_handled', tenantId: 't', receivedAt: at, replied: true, answered });
    await sink.record({ type: 'burst_handled', tenantId: 't', receivedAt: at, replied: false });
    expect(tallies.reduce((sum, t) => sum + (t.messagesIn ?? 0), 0)).toBe(3);
    expect(tallies.filter((t) => t.answered === 'faq')).toHaveLength(1);
    expect(tallies).toHaveLength(4);
  });
});
