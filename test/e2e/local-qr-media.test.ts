import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';
import { oggVoiceNote } from '../support/media-samples.ts';

/**
 * A QR customer's voice note end to end through the local stack: the simulated phone sends it, the
 * runner downloads it through the session and keeps it in the media bucket, the assistant reads it
 * from there (no Graph API: GRAPH_API_BASE_URL points nowhere), transcribes it with the fake OpenAI
 * and answers through the command queue and the linked phone. Media that is gone gets an answer too.
 */
let stack: LocalStack;
let openai: FakeOpenAi;
const NUMBER = '34622000333';

beforeAll(async () => {
  openai = await startFakeOpenAi();
  stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('e2eqrm'),
    withSes: false,
    seedDemo: false,
    retryDelaySeconds: 1,
    env: {
      META_APP_SECRET: 'e2e-app-secret',
      META_VERIFY_TOKEN: 'e2e-verify',
      OPERATOR_API_KEY: 'e2e-operator-key',
      GRAPH_API_BASE_URL: 'https://graph.example.invalid',
      WHATSAPP_ACCESS_TOKEN: 'platform-wa-token-PLAT',
      OPENAI_API_KEY: openai.key,
      OPENAI_BASE_URL: openai.url,
      OPENAI_TIMEOUT_MS: '300',
      OPENAI_RETRIES: '2',
      OPENAI_BACKOFF_MS: '10',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await openai?.stop();
});

async function call(method: string, path: string, body?: unknown, auth = true) {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: 'Bearer e2e-operator-key' } : {}),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function eventually<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const qrOf = async (id: string, state: string) => {
  const { body } = await call('GET', `/clients/${id}`);
  return body?.qr?.state === state ? body.qr : undefined;
};
const repliesTo = async (customer: string) => {
  const sent = (await call('GET', `/simulator/phone/sent?phone_number=${NUMBER}`, undefined, false)).body;
  const to = (sent as Array<{ to: string; text: string }>).filter((m) => m.to === customer);
  return to.length > 0 ? to : undefined;
};

describe('a QR tenant on OpenAI, given media', () => {
  let id: string;

  beforeAll(async () => {
    const created = await call('POST', '/clients', {
      name: 'Bar QR Media',
      phone_number: `+${NUMBER}`,
      channel: 'qr',
      faqs: laPlazaFaqs,
      language: 'es',
      bot_enabled: true,
      reply_delay_seconds: 0,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    const shown = await eventually(() => qrOf(id, 'qr'), 'the QR');
    const scanned = await call(
      'POST',
      '/simulator/phone/scan',
      { qr: shown.qr, phone_number: NUMBER },
      false,
    );
    expect(scanned.status).toBe(200);
    await eventually(() => qrOf(id, 'connected'), 'connected');
  });

  it('keeps a voice note from the session, transcribes it and answers it through the phone', async () => {
    const note = oggVoiceNote('¿Abrís el domingo?', 3);
    const customer = '34699333001';
    stack.qr.whatsapp!.receiveMedia(NUMBER, customer, {
      type: 'audio',
      bytes: note,
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
    });

    const [reply] = await eventually(() => repliesTo(customer), 'the answer');
    expect(reply!.text).toBe('[fake-openai] ¿Abrís el domingo?');
    expect(openai.transcriptions.at(-1)).toMatchObject({ filename: 'voice.ogg' });
    const messages = await call('GET', `/clients/${id}/conversations/${customer}/messages`);
    const inbound = messages.body.messages.filter((m: { direction: string }) => m.direction === 'inbound');
    expect(inbound).toEqual([
      expect.objectContaining({
        type: 'audio',
        text: '¿Abrís el domingo?',
        media: { mime_type: 'audio/ogg', bytes: note.length },
      }),
    ]);
  });

  it('answers a voice note WhatsApp no longer has, without a transcription', async () => {
    const customer = '34699333002';
    const before = openai.transcriptions.length;
    stack.qr.whatsapp!.receiveMedia(NUMBER, customer, {
      type: 'audio',
      bytes: oggVoiceNote('nunca oído', 2),
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
      gone: true,
    });

    const [reply] = await eventually(() => repliesTo(customer), 'the polite answer');
    expect(reply!.text).toEqual(expect.any(String));
    expect(reply!.text).not.toMatch(/fake-openai|nunca oído/); // a polite answer, not a transcript's
    expect(openai.transcriptions).toHaveLength(before);
  });
});
