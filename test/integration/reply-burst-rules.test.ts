import { describe, expect, it } from 'vitest';
import { createAssistantHandler } from '../../functions/assistant.ts';
import { createReplyBurstHandler } from '../../functions/reply-burst.ts';
import type { BurstWakeup } from '../../lib/conversation/burst-ports.ts';
import type { InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import type { MediaDeps } from '../../lib/conversation/media-understanding.ts';
import { REPLY_BURST_CAP_SECONDS } from '../../lib/conversation/reply-burst.ts';
import { createOpenAiTranscriber } from '../../lib/openai/transcriber.ts';
import { FAKE_OPENAI_KEY, type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { oggVoiceNote } from '../support/media-samples.ts';
import {
  asked,
  conversations,
  createPlaza,
  depsWith,
  inbound,
  messageEvent,
  nextContact,
  plaza,
  recordOf,
  repliesTo,
  useBurstHarness,
  wakeQueue,
} from '../support/reply-burst-harness.ts';

/**
 * What a burst holds (bot commands, photos) and the cap on a customer who keeps writing; wake-ups
 * are recorded and played by hand, on a fake clock where time matters.
 */

useBurstHarness();

describe('what a burst holds', () => {
  /** Deps whose wake-ups are recorded, to be played by hand. */
  function recording() {
    const scheduled: BurstWakeup[] = [];
    const deps = depsWith({ wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) } });
    return {
      scheduled,
      assistant: createAssistantHandler(async () => deps),
      wake: createReplyBurstHandler(async () => deps),
    };
  }

  it('given "pausar bot" after a greeting, then the command is answered at once and the burst stays silent', async () => {
    const from = nextContact();
    const { scheduled, assistant, wake } = recording();
    await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.cmd.${from}.0`), inbound.arn));
    await assistant(recordOf(messageEvent(plaza, from, 'pausar bot', `wamid.cmd.${from}.1`), inbound.arn));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      expect.stringContaining('He pausado'),
    ]);
    expect(scheduled).toHaveLength(1);
    await wake(recordOf(scheduled[0], wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(1);
    expect(asked).toEqual([]);
  });

  it('given a person writes in the chat after the burst was collected, then the wake-up sends nothing', async () => {
    const from = nextContact();
    const { scheduled, assistant, wake } = recording();
    await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.owner.${from}.0`), inbound.arn));
    await assistant(
      recordOf(messageEvent(plaza, from, '¿tenéis menú del día?', `wamid.owner.${from}.1`), inbound.arn),
    );
    expect(scheduled.length).toBeGreaterThan(0);
    // The owner answers from the phone before the burst's wake-up comes.
    await conversations.handOff(
      plaza.id,
      { key: from, wa_id: from },
      { until: new Date(Date.now() + 3_600_000), by: 'person' },
      new Date(),
      24,
    );
    for (const wakeup of scheduled) await wake(recordOf(wakeup, wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
  });

  it('given a burst whose customer last wrote over 24 hours ago (a late redelivery), then it is not answered with free text', async () => {
    const from = nextContact();
    const { scheduled, assistant, wake } = recording();
    const late = messageEvent(plaza, from, '¿tenéis menú del día?', `wamid.late.${from}.0`);
    late.message.timestamp -= 25 * 3600;
    await assistant(recordOf(late, inbound.arn));
    expect(scheduled).toHaveLength(1);
    await wake(recordOf(scheduled[0], wakeQueue.arn));
    // The demo tenant has no window_template: nothing may go out, and the conversation says why.
    expect(repliesTo(plaza.phone_number_id, from)).toEqual([]);
    const { items } = await conversations.listMessages(plaza.id, from, { limit: 10 });
    expect(items.find((message) => message.direction === 'outbound')).toMatchObject({ status: 'not_sent' });
  });

  it('given a burst of photos without captions, then one "text only" reply; with a caption, the caption is the question', async () => {
    const from = nextContact();
    await conversations.touchInbound(plaza.id, { key: from, wa_id: from }, new Date(), 24);
    await conversations.updateContact(plaza.id, from, { welcomed_at: new Date().toISOString() });
    const { scheduled, assistant, wake } = recording();
    const photo = (n: number, caption?: string): InboundMessageEvent => {
      const event = messageEvent(plaza, from, '', `wamid.photo.${from}.${n}`);
      event.message = { id: event.message.id, type: 'image', timestamp: event.message.timestamp };
      if (caption) event.message.text = caption;
      return event;
    };
    await assistant(recordOf(photo(0), inbound.arn));
    await assistant(recordOf(photo(1), inbound.arn));
    await wake(recordOf(scheduled.at(-1), wakeQueue.arn));
    expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
      expect.stringContaining('solo puedo leer mensajes de texto'),
    ]);
    await assistant(recordOf(photo(2), inbound.arn));
    await assistant(recordOf(photo(3, '¿tenéis menú del día?'), inbound.arn));
    await wake(recordOf(scheduled.at(-1), wakeQueue.arn));
    expect(asked).toEqual(['¿tenéis menú del día?']);
    expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(2);
  });
});

describe('the cap on a busy customer', () => {
  it(`given a customer who writes every 2 s, then the answer comes ${REPLY_BURST_CAP_SECONDS} s after the first message and later messages start a new burst`, async () => {
    const tenant = await createPlaza(3);
    const from = nextContact();
    const start = Date.parse('2026-12-03T10:00:00Z');
    let now = start;
    const due: Array<{ wakeup: BurstWakeup; at: number }> = [];
    const answeredAt: number[] = [];
    const deps = depsWith({
      now: () => new Date(now),
      wakeups: { schedule: async (wakeup, delay) => void due.push({ wakeup, at: now + delay * 1000 }) },
    });
    const responder = deps.responder;
    deps.responder = {
      reply: (request) => {
        answeredAt.push(now);
        return responder.reply(request);
      },
    };
    const assistant = createAssistantHandler(async () => deps);
    const wake = createReplyBurstHandler(async () => deps);
    /** Plays the wake-ups due by `now`, in the order they fall due, as the delayed queue would. */
    const playDue = async () => {
      due.sort((a, b) => a.at - b.at);
      while (due[0] && due[0].at <= now) await wake(recordOf(due.shift()!.wakeup, wakeQueue.arn));
    };

    for (let k = 0; k <= 12; k++) {
      now = start + k * 2000;
      await playDue();
      await assistant(
        recordOf(messageEvent(tenant, from, `mensaje ${k}`, `wamid.cap.${from}.${k}`), inbound.arn),
      );
    }
    while (due.length > 0) {
      now = Math.max(now, due[0]!.at);
      await playDue();
    }

    const burst = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => `mensaje ${from + i}`).join('\n');
    expect(asked).toEqual([burst(0, 9), burst(10, 12)]);
    expect(answeredAt[0]).toBe(start + REPLY_BURST_CAP_SECONDS * 1000);
    expect(answeredAt[1]).toBe(start + 24_000 + 3000);
  });
});

describe('media in a burst', () => {
  /** The bytes of each media id, as the media fetcher would keep them (S3 itself: media-answers.test.ts). */
  const kept = new Map<string, Buffer>();
  const mediaDeps = (openai: FakeOpenAi): MediaDeps => ({
    fetcher: {
      fetch: async ({ media }) => ({ bytes: kept.get(media.id!)!, mimeType: 'audio/ogg', key: 'unused' }),
    },
    transcriber: createOpenAiTranscriber({
      platformApiKey: FAKE_OPENAI_KEY,
      baseURL: openai.url,
      timeoutMs: 5000,
    }),
  });
  const voiceEvent = (from: string, id: string, spoken: string): InboundMessageEvent => {
    kept.set(`media-${id}`, oggVoiceNote(spoken, 2));
    const event = messageEvent(plaza, from, '', id);
    event.message = {
      id,
      type: 'audio',
      timestamp: event.message.timestamp,
      media: { id: `media-${id}`, mime_type: 'audio/ogg; codecs=opus', voice: true },
    };
    return event;
  };

  /** A customer already welcomed, and the consumers with media deps whose wake-ups are recorded. */
  async function welcomedWithMedia(openai: FakeOpenAi) {
    const from = nextContact();
    await conversations.touchInbound(plaza.id, { key: from, wa_id: from }, new Date(), 24);
    await conversations.updateContact(plaza.id, from, { welcomed_at: new Date().toISOString() });
    const scheduled: BurstWakeup[] = [];
    const deps = depsWith({
      wakeups: { schedule: async (wakeup) => void scheduled.push(wakeup) },
      media: mediaDeps(openai),
    });
    return { from, scheduled, deps, assistant: createAssistantHandler(async () => deps) };
  }

  it('given a question then a voice note that cannot be transcribed, then the one answer first says the note was not heard', async () => {
    const openai = await startFakeOpenAi();
    openai.setTranscriptionRule(() => ({ status: 400, error: { message: 'Audio file might be corrupted' } }));
    try {
      const { from, scheduled, deps, assistant } = await welcomedWithMedia(openai);
      await assistant(
        recordOf(messageEvent(plaza, from, '¿tenéis menú del día?', `wamid.deaf.${from}.0`), inbound.arn),
      );
      await assistant(recordOf(voiceEvent(from, `wamid.deaf.${from}.1`, 'ruido'), inbound.arn));

      await createReplyBurstHandler(async () => deps)(recordOf(scheduled.at(-1), wakeQueue.arn));
      const replies = repliesTo(plaza.phone_number_id, from).map((r) => r.text);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(/^Por ahora solo puedo leer texto: no he podido ver ni escuchar/);
      expect(replies[0]).toContain('menú del día cuesta 12€');
    } finally {
      await openai.stop();
    }
  });

  it('given "hola" then a voice note, then the transcript joins the burst and one answer covers both', async () => {
    const openai = await startFakeOpenAi();
    try {
      const { from, scheduled, deps, assistant } = await welcomedWithMedia(openai);
      await assistant(recordOf(messageEvent(plaza, from, 'hola', `wamid.voice.${from}.0`), inbound.arn));
      await assistant(
        recordOf(voiceEvent(from, `wamid.voice.${from}.1`, '¿tenéis menú del día?'), inbound.arn),
      );
      expect(repliesTo(plaza.phone_number_id, from)).toHaveLength(0);

      await createReplyBurstHandler(async () => deps)(recordOf(scheduled.at(-1), wakeQueue.arn));
      expect(asked).toEqual(['hola\n¿tenéis menú del día?']);
      expect(repliesTo(plaza.phone_number_id, from).map((r) => r.text)).toEqual([
        expect.stringContaining('menú del día cuesta 12€'),
      ]);
    } finally {
      await openai.stop();
    }
  });
});
