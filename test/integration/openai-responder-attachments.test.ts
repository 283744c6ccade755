import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResponderAttachment, ResponderRequest, ResponderTenant } from '../../lib/conversation/ports.ts';
import { clearOpenAiClientCache } from '../../lib/openai/openai-client.ts';
import {
  createOpenAiResponder,
  type OpenAiResponderOptions,
  OpenAiUnavailableError,
} from '../../lib/openai/openai-responder.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { jpegImage, pdfDocument } from '../support/media-samples.ts';

const PLATFORM_KEY = 'sk-platform-key-000021';

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

const tenant: ResponderTenant = {
  id: 'cl_testtenant000021',
  name: 'Casa Pepe',
  language: 'es',
  faqs: [{ q: '¿Hacéis tartas?', a: 'Sí, por encargo.' }],
  assistant: {
    id: 'asst_test',
    version: 1,
    model: 'gpt-5-mini',
    instructions: 'You are the assistant of Casa Pepe.',
    status: 'ready',
    updated_at: '2026-12-01T00:00:00.000Z',
  },
};

const image: ResponderAttachment = {
  kind: 'image',
  mimeType: 'image/jpeg',
  base64: jpegImage().toString('base64'),
};
const pdf: ResponderAttachment = {
  kind: 'file',
  mimeType: 'application/pdf',
  filename: 'pedido.pdf',
  base64: pdfDocument('Pedido: 2 tartas de queso').toString('base64'),
};

function request(overrides: Partial<ResponderRequest> = {}): ResponderRequest {
  return { tenant, contact: { key: 'wa:34600000021' }, text: '¿Tenéis esta tarta?', ...overrides };
}

function responder(overrides: OpenAiResponderOptions = {}) {
  return createOpenAiResponder({
    platformApiKey: PLATFORM_KEY,
    baseURL: fake.url,
    timeoutMs: 2_000,
    retries: 0,
    ...overrides,
  });
}

/** The user message of the one Responses call (after the turn mark). */
function userMessage(): { role?: string; content?: unknown } | undefined {
  const [call] = fake.requestsTo('POST', '/v1/responses');
  const input = (call?.body as { input?: Array<{ role?: string; content?: unknown }> } | undefined)?.input;
  return input?.find((item) => item.role === 'user');
}

describe('OpenAI responder: what the customer sent with the text', () => {
  it('given a photo with a caption, then the caption goes as input_text and the photo as a low-detail input_image', async () => {
    const reply = await responder().reply(request({ attachments: [image] }));

    expect(reply.source).toBe('openai');
    expect(reply.text).toBe('[fake-openai] ¿Tenéis esta tarta?');
    expect(userMessage()?.content).toEqual([
      { type: 'input_text', text: '¿Tenéis esta tarta?' },
      { type: 'input_image', image_url: `data:image/jpeg;base64,${image.base64}`, detail: 'low' },
    ]);
    // The conversation keeps the turn with its parts (what the model saw next time).
    const items = fake.conversations.get(reply.conversationId ?? '')?.items ?? [];
    expect(items.find((item) => item.role === 'user')?.raw.content).toEqual(userMessage()?.content);
  });

  it('given a photo without a caption, then only the image is sent (no empty text part)', async () => {
    await responder().reply(request({ text: '  ', attachments: [image] }));

    expect(userMessage()?.content).toEqual([
      { type: 'input_image', image_url: `data:image/jpeg;base64,${image.base64}`, detail: 'low' },
    ]);
  });

  it('given imageDetail high, then images are sent at that detail', async () => {
    await responder({ imageDetail: 'high' }).reply(request({ attachments: [image, image] }));

    const content = userMessage()?.content as Array<{ type: string; detail?: string }>;
    expect(content.map((part) => [part.type, part.detail])).toEqual([
      ['input_text', undefined],
      ['input_image', 'high'],
      ['input_image', 'high'],
    ]);
  });

  it('given a PDF, then it goes as input_file with its name and a base64 data URL', async () => {
    await responder().reply(request({ text: 'Os mando el pedido', attachments: [pdf] }));

    expect(userMessage()?.content).toEqual([
      { type: 'input_text', text: 'Os mando el pedido' },
      {
        type: 'input_file',
        filename: 'pedido.pdf',
        file_data: `data:application/pdf;base64,${pdf.base64}`,
      },
    ]);
  });

  it('given a text-only message (no attachments, or an empty list), then the content stays a plain string', async () => {
    await responder().reply(request());
    await responder().reply(request({ attachments: [] }));

    const users = fake
      .requestsTo('POST', '/v1/responses')
      .map((call) => (call.body as { input: Array<{ role: string; content: unknown }> }).input)
      .map((input) => input.find((item) => item.role === 'user'));
    expect(users).toEqual([
      { type: 'message', role: 'user', content: '¿Tenéis esta tarta?' },
      { type: 'message', role: 'user', content: '¿Tenéis esta tarta?' },
    ]);
  });

  it('given an image type OpenAI cannot read, then the fake refuses it as OpenAI would (400, not retried)', async () => {
    const heic: ResponderAttachment = { kind: 'image', mimeType: 'image/heic', base64: image.base64 };

    const error = await responder()
      .reply(request({ attachments: [heic] }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(OpenAiUnavailableError);
    expect((error as OpenAiUnavailableError).reason).toBe('bad_request');
    expect(fake.requestsTo('POST', '/v1/responses').map((call) => call.status)).toEqual([400]);
  });
});
