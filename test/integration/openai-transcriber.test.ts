import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TranscriptionRequest } from '../../lib/conversation/media-ports.ts';
import { clearOpenAiClientCache } from '../../lib/openai/openai-client.ts';
import { OpenAiUnavailableError } from '../../lib/openai/retry.ts';
import {
  createOpenAiTranscriber,
  DEFAULT_TRANSCRIPTION_MODEL,
  type OpenAiTranscriberOptions,
} from '../../lib/openai/transcriber.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { oggVoiceNote } from '../support/media-samples.ts';

const PLATFORM_KEY = 'sk-platform-key-000011';
const TENANT_KEY = 'sk-tenant-key-000012';

let fake: FakeOpenAi;

beforeAll(async () => {
  fake = await startFakeOpenAi({ keys: [PLATFORM_KEY] });
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.reset();
  clearOpenAiClientCache();
});

function transcriber(overrides: OpenAiTranscriberOptions = {}) {
  return createOpenAiTranscriber({
    platformApiKey: PLATFORM_KEY,
    baseURL: fake.url,
    timeoutMs: 2_000,
    retries: 2,
    backoffMs: 5,
    ...overrides,
  });
}

function voiceNote(overrides: Partial<TranscriptionRequest> = {}): TranscriptionRequest {
  return { audio: oggVoiceNote('¿Abrís el domingo?', 4), mimeType: 'audio/ogg', ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<OpenAiUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAiUnavailableError);
  return error as OpenAiUnavailableError;
}

describe('OpenAI transcriber (audio/transcriptions against the fake)', () => {
  it('given a voice note, when transcribed, then it is sent as voice.ogg with the default model and its words come back', async () => {
    const note = voiceNote();

    const transcript = await transcriber().transcribe(note);

    expect(transcript.text).toBe('¿Abrís el domingo?');
    expect(transcript.model).toBe(DEFAULT_TRANSCRIPTION_MODEL);
    expect(fake.transcriptions).toHaveLength(1);
    expect(fake.transcriptions[0]).toMatchObject({
      model: 'gpt-transcribe',
      filename: 'voice.ogg',
      contentType: 'audio/ogg',
      // gpt-transcribe gives no log-probabilities: none are asked for.
      include: [],
      bytes: note.audio.length,
      keySuffix: PLATFORM_KEY.slice(-6),
      status: 200,
    });
    expect(fake.transcriptions[0]?.audio?.equals(note.audio)).toBe(true);
    expect(fake.requestsTo('POST', '/v1/audio/transcriptions')[0]?.body).toMatchObject({
      response_format: 'json',
    });
  });

  it('given the tenant’s language, when transcribed, then it goes as the ISO-639-1 hint', async () => {
    await transcriber().transcribe(voiceNote({ language: 'es' }));
    await transcriber().transcribe(voiceNote({ language: 'pt-BR' }));
    // A hint the API would refuse (400 for every note) is left out rather than sent.
    await transcriber().transcribe(voiceNote({ language: 'spanish' }));
    await transcriber().transcribe(voiceNote());

    expect(fake.transcriptions.map((call) => call.language)).toEqual(['es', 'pt', undefined, undefined]);
    expect(fake.transcriptions.every((call) => call.status === 200)).toBe(true);
  });

  it('names Opus notes .ogg because the API refuses the very same bytes named .opus', async () => {
    // The real SDK straight at the fake, with the name a naive mapping of "audio/opus" would give.
    const client = new OpenAI({ apiKey: PLATFORM_KEY, baseURL: fake.url, maxRetries: 0 });
    const audio = oggVoiceNote('hola', 2);
    const refused = await client.audio.transcriptions
      .create({ file: await toFile(audio, 'voice.opus', { type: 'audio/ogg' }), model: 'whisper-1' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('file');

    const transcript = await transcriber().transcribe({ audio, mimeType: 'audio/opus' });

    expect(transcript.text).toBe('hola');
    expect(fake.transcriptions.map((call) => [call.filename, call.status])).toEqual([
      ['voice.opus', 400],
      ['voice.ogg', 200],
    ]);
  });

  it('names the other audio WhatsApp allows by their type (mp3, m4a), parameters of the type ignored', async () => {
    const audio = Buffer.from('ID3\u0004 SPEECH:buenos días');
    await transcriber().transcribe({ audio, mimeType: 'audio/mpeg' });
    await transcriber().transcribe({ audio, mimeType: 'audio/mp4' });
    await transcriber().transcribe({ audio: oggVoiceNote('hola', 1), mimeType: 'audio/ogg; codecs=opus' });

    expect(fake.transcriptions.map((call) => [call.filename, call.contentType, call.status])).toEqual([
      ['audio.mp3', 'audio/mpeg', 200],
      ['audio.m4a', 'audio/mp4', 200],
      ['voice.ogg', 'audio/ogg', 200],
    ]);
  });

  it('given whisper-1, when transcribed, then logprobs are not asked for and the billed seconds come back', async () => {
    const transcript = await transcriber({ model: 'whisper-1' }).transcribe(
      voiceNote({ audio: oggVoiceNote('hola', 4.2) }),
    );

    expect(fake.transcriptions[0]).toMatchObject({ model: 'whisper-1', include: [], status: 200 });
    expect(transcript).toEqual({ text: 'hola', model: 'whisper-1', seconds: 5 });
  });

  it('given token log-probabilities, then the confidence is exp of their mean', async () => {
    fake.setTranscriptionRule(() => ({
      text: 'abrís el domingo',
      logprobs: [
        { token: 'abr', logprob: -0.1 },
        { token: 'ís', logprob: -0.5 },
        { token: ' el', logprob: 0 },
        { token: ' domingo', logprob: -0.2 },
      ],
    }));

    // The gpt-4o models give log-probabilities (gpt-transcribe, the default, does not).
    const transcript = await transcriber({ model: 'gpt-4o-mini-transcribe' }).transcribe(voiceNote());

    expect(transcript.confidence).toBeCloseTo(Math.exp(-0.2), 10);
    // The gpt-4o models bill tokens, not seconds: the caller measures the note itself.
    expect(transcript.seconds).toBeUndefined();
  });

  it('given 5xx every time, then it is retried and ends as OpenAiUnavailableError(server_error)', async () => {
    fake.failNext(10, { status: 500 }, { method: 'POST', path: '/v1/audio/transcriptions' });

    const error = await rejection(transcriber({ retries: 2 }).transcribe(voiceNote()));

    expect(error.reason).toBe('server_error');
    expect(error.retryable).toBe(true);
    expect(error.attempts).toBe(3);
    expect(fake.transcriptions).toHaveLength(3);
  });

  it('given one 503, then the retry transcribes (the file is sent whole again)', async () => {
    fake.setTranscriptionRule((audio) =>
      fake.transcriptions.length === 1 ? { status: 503 } : { text: `${audio.length} bytes` },
    );
    const note = voiceNote();

    const transcript = await transcriber().transcribe(note);

    expect(transcript.text).toBe(`${note.audio.length} bytes`);
    expect(fake.transcriptions.map((call) => [call.status, call.bytes])).toEqual([
      [503, note.audio.length],
      [200, note.audio.length],
    ]);
  });

  it('given no tenant key and no platform key, then it is not configured and calls nobody', async () => {
    const error = await rejection(
      transcriber({ platformApiKey: async () => undefined }).transcribe(voiceNote()),
    );

    expect(error.reason).toBe('no_api_key');
    expect(error.notConfigured).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it('given AAC or AMR audio, then it fails with unsupported_format without calling the API', async () => {
    for (const mimeType of ['audio/aac', 'audio/amr']) {
      const error = await rejection(transcriber().transcribe(voiceNote({ mimeType })));
      expect(error.reason).toBe('unsupported_format');
      expect(error.retryable).toBe(false);
      expect(error.notConfigured).toBe(false);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('given a tenant with its own key, then that key is used, not the platform’s', async () => {
    fake.acceptKey(TENANT_KEY);

    await transcriber().transcribe(voiceNote({ tenantApiKey: TENANT_KEY }));

    expect(fake.transcriptions.map((call) => call.keySuffix)).toEqual([TENANT_KEY.slice(-6)]);
  });

  it('given an unknown model, then it fails as not_found at once', async () => {
    const error = await rejection(transcriber({ model: 'gpt-9-transcribe' }).transcribe(voiceNote()));

    expect(error.reason).toBe('not_found');
    expect(fake.transcriptions).toHaveLength(1);
  });
});
