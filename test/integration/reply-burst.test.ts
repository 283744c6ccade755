import { describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import { createReplyBurstHandler } from '../../functions/reply-burst.ts';
import { sqsEvent } from '../../infra/local/lambda-events.ts';
import type { BurstWakeup } from '../../lib/conversation/burst-ports.ts';
import { InMemoryTelemetry } from '../../lib/observability/telemetry.ts';
import {
  asked,
  BURST,
  bursts,
  conversations,
  createPlaza,
  deliver,
  depsWith,
  drain,
  graph,
  inbound,
  LEASE_MS,
  messageEvent,
  nextContact,
  plaza,
  receiveWakeups,
  recordOf,
  repliesTo,
  useBurstHarness,
  WELCOME,
  waitFor,
  wakeQueue,
} from '../support/reply-burst-harness.ts';

/**
 * The durable debounce on the emulators, end to end through both queues: one answer per burst,
 * redeliveries, workers dying, stale wake-ups, and reply_delay_seconds 0.
 */

useBurstHarness();

describe('a burst of messages gets one answer', () => {
  it('given three messages in a burst, then one answer to the whole burst, in reply to the last, with typing shown', async () => {
    const from = nextContact();
    const ids = BURST.map((_, i) => `wamid.burst3.${from}.${i}`);
    for (const [i, text] of BURST.entries()) await deliver(plaza, from, text, ids[i]!);
    const telemetry = new InMemoryTelemetry();
    const deps = depsWith({ telemetry });
    // The inbound queue first: no wake-up is consumed while the burst is being collected.
    await drain(
      inbound,
      createAssistantHandler(async () => deps, { telemetry }),
    );
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps, { telemetry }),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    const replies = repliesTo(plaza.phone_number_id, from);
    expect(replies.map((r) => r.text)).toEqual([WELCOME, expect.stringContaining('12€')]);
    expect(replies[0]?.context?.message_id).toBe(ids[2]);
    // Typing while each message was collected, and again while the burst was answered.
    const typing = graph.simulator.reads.filter((r) => r.phoneNumberId === plaza.phone_number_id && r.typing);
    expect(typing.map((r) => r.messageId)).toEqual([...ids, ids[2]]);
    expect(telemetry.total('MessagesCollected')).toBe(3);
    expect(telemetry.total('BurstsAnswered')).toBe(1);
    expect(telemetry.total('StaleWakeupsDropped')).toBe(2);
    expect(telemetry.total('MessagesAnswered', 'faq')).toBe(1);
    // Every message of the burst is recorded for the operator, and the reply once.
    const stored = await conversations.listMessages(plaza.id, from, { limit: 20 });
    expect(stored.items.filter((m) => m.direction === 'inbound').map((m) => m.text)).toEqual(
      [...BURST].reverse(),
    );
    expect(stored.items.filter((m) => m.direction === 'outbound')).toHaveLength(2);
    expect((await bursts.get(plaza.id, from))?.pending).toEqual([]);
  });

  it('given every message of the burst delivered 4 times, then still one answer', async () => {
    const from = nextContact();
    const ids = BURST.map((_, i) => `wamid.burst4x.${from}.${i}`);
    for (let copy = 0; copy < 4; copy++) {
      for (const [i, text] of BURST.entries()) await deliver(plaza, from, text, ids[i]!);
    }
    const deps = depsWith();
    await drain(
      inbound,
      createAssistantHandler(async () => deps),
    );
    // Only the redeliveries below are counted (SQS itself may have dropped some copies above).
    const telemetry = new InMemoryTelemetry();
    const assistant = createAssistantHandler(async () => deps, { telemetry });
    // Past SQS's deduplication window Meta may still deliver each again, before and after the answer.
    const again = async () => {
      for (const [i, text] of BURST.entries()) {
        const result = await assistant(recordOf(messageEvent(plaza, from, text, ids[i]!), inbound.arn, i));
        expect(result.batchItemFailures).toEqual([]);
      }
    };
    await again();
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );
    await again();
    await again();
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('12€'),
    ]);
    expect(telemetry.total('DuplicatesSuppressed')).toBe(9);
  });

  it('given a worker that dies after adding a message to the burst, then the redelivery takes over and the burst is answered once', async () => {
    const from = nextContact();
    const events = BURST.map((text, i) => messageEvent(plaza, from, text, `wamid.crash.${from}.${i}`));
    const deps = depsWith();
    const healthy = createAssistantHandler(async () => deps);
    await healthy(recordOf(events[0], inbound.arn));
    // The second message's worker joins it to the burst, then dies before its wake-up is sent.
    const dying = depsWith({ wakeups: { schedule: () => new Promise<never>(() => undefined) } });
    void createAssistantHandler(async () => dying)(recordOf(events[1], inbound.arn));
    await waitFor(async () => (await bursts.get(plaza.id, from))?.pending.length === 2);
    // Its lease runs out and the queue delivers the message again, then the third arrives.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    expect((await healthy(recordOf(events[1], inbound.arn))).batchItemFailures).toEqual([]);
    await healthy(recordOf(events[2], inbound.arn));
    expect((await bursts.get(plaza.id, from))?.pending.map((m) => m.text)).toEqual(BURST);
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(2);
  });

  it('given a wake-up worker that dies between the two parts of the answer, then the takeover sends only the missing part', async () => {
    const from = nextContact();
    const deps = depsWith();
    const assistant = createAssistantHandler(async () => deps);
    for (const [i, text] of BURST.entries()) {
      await assistant(recordOf(messageEvent(plaza, from, text, `wamid.wcrash.${from}.${i}`), inbound.arn));
    }
    let sends = 0;
    const hanging = depsWith({
      sender: {
        ...deps.sender,
        sendText: (request) =>
          ++sends === 2 ? new Promise<never>(() => undefined) : deps.sender.sendText(request),
      },
    });
    // Only the last wake-up is current; the dying worker takes it and hangs on the second part.
    const wakeups = await receiveWakeups(3);
    const current = wakeups.find((m) => JSON.parse(m.Body!).seq === 3)!;
    void createReplyBurstHandler(async () => hanging)(sqsEvent([current], wakeQueue.arn));
    await waitFor(async () => repliesTo(plaza.phone_number_id, from).length === 1);
    // Delivered again while that worker still holds the burst: it fails back to the queue (it may be
    // the one to take over), never dropped.
    const meanwhile = await createReplyBurstHandler(async () => deps)(sqsEvent([current], wakeQueue.arn));
    expect(meanwhile.batchItemFailures).toEqual([{ itemIdentifier: current.MessageId }]);
    // After the lease and the visibility timeout the same wake-up comes back to a healthy worker.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await drain(
      wakeQueue,
      createReplyBurstHandler(async () => deps),
    );

    expect(asked).toEqual([BURST.join('\n')]);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('12€'),
    ]);
  });

  it('given a stale wake-up (a later message moved the burst on), then it is dropped and the current one answers', async () => {
    const from = nextContact();
    const scheduled: BurstWakeup[] = [];
    const deps = depsWith({ wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) } });
    const telemetry = new InMemoryTelemetry();
    const assistant = createAssistantHandler(async () => deps);
    const wake = createReplyBurstHandler(async () => deps, { telemetry });
    await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.stale.${from}.0`), inbound.arn));
    await assistant(
      recordOf(messageEvent(plaza, from, '¿hacéis reservas?', `wamid.stale.${from}.1`), inbound.arn),
    );
    expect(scheduled.map((w) => w.seq)).toEqual([1, 2]);

    await wake(recordOf(scheduled[0], wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
    expect(telemetry.total('StaleWakeupsDropped')).toBe(1);
    await wake(recordOf(scheduled[1], wakeQueue.arn));
    expect(asked).toEqual(['hola\n¿hacéis reservas?']);
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('reservar'),
    ]);
  });

  it('given reply_delay_seconds 0, then each message is answered on its own at once, with no wake-up', async () => {
    const tenant = await createPlaza(0);
    const from = nextContact();
    for (const [i, text] of ['¿Hacéis reservas?', '¿Tenéis menú del día?'].entries()) {
      await deliver(tenant, from, text, `wamid.nodelay.${from}.${i}`);
    }
    await drain(
      inbound,
      createAssistantHandler(async () => depsWith()),
    );
    expect(asked).toEqual(['¿Hacéis reservas?', '¿Tenéis menú del día?']);
    expect(repliesTo(tenant.phone_number_id, from).map((r) => r.text)).toEqual([
      WELCOME,
      expect.stringContaining('reservar'),
      expect.stringContaining('12€'),
    ]);
    expect(await receiveWakeups(0)).toEqual([]);
    expect(await bursts.get(tenant.id, from)).toBeUndefined();
  });
});
