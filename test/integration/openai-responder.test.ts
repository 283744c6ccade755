import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResponderRequest, ResponderTenant } from '../../lib/conversation/ports.ts';
import { clearOpenAiClientCache } from '../../lib/openai/openai-client.ts';
import {
  createOpenAiResponder,
  deleteConversation,
  type OpenAiResponderOptions,
  OpenAiUnavailableError,
} from '../../lib/openai/openai-responder.ts';
import { createFaqVectorStore } from '../../lib/openai/vector-store.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';

const PLATFORM_KEY = 'sk-platform-key-000001';
const TENANT_KEY = 'sk-tenant-key-000002';

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

function tenant(overrides: Partial<ResponderTenant> = {}): ResponderTenant {
  return {
    id: 'cl_testtenant000001',
    name: 'Casa Pepe',
    language: 'es',
    faqs: [{ q: '¿A qué hora abrís?', a: 'De 9 a 18.' }],
    assistant: {
      id: 'asst_test',
      version: 3,
      model: 'gpt-5-mini',
      instructions: 'You are the assistant of Casa Pepe. Only answer about Casa Pepe.',
      status: 'ready',
      updated_at: '2026-12-01T00:00:00.000Z',
    },
    ...overrides,
  };
}

function request(overrides: Partial<ResponderRequest> = {}): ResponderRequest {
  return { tenant: tenant(), contact: { key: 'wa:34600000001' }, text: '¿Abrís el domingo?', ...overrides };
}

function responder(overrides: OpenAiResponderOptions = {}) {
  return createOpenAiResponder({
    platformApiKey: PLATFORM_KEY,
    baseURL: fake.url,
    timeoutMs: 2_000,
    retries: 2,
    backoffMs: 5,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<OpenAiUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAiUnavailableError);
  return error as OpenAiUnavailableError;
}

describe('OpenAI responder (Responses + Conversations against the fake)', () => {
  it('given a contact without a conversation, when it writes, then a conversation is created and answered in it', async () => {
    const reply = await responder().reply(request());

    expect(reply.source).toBe('openai');
    expect(reply.text).toBe('[fake-openai] ¿Abrís el domingo?');
    expect(reply.conversationId).toMatch(/^conv_/);
    expect(fake.conversations.has(reply.conversationId ?? '')).toBe(true);
    const [created] = fake.requestsTo('POST', '/v1/conversations');
    expect(created?.body).toEqual({
      metadata: { tenant_id: 'cl_testtenant000001', contact_ref: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    // Neither the message nor the phone number goes into metadata.
    expect(JSON.stringify(created?.body)).not.toContain('34600000001');
    expect(JSON.stringify(created?.body)).not.toContain('domingo');
    const [responded] = fake.requestsTo('POST', '/v1/responses');
    expect(responded?.body).toMatchObject({
      conversation: reply.conversationId,
      input: [
        {
          type: 'message',
          role: 'developer',
          content: expect.stringMatching(/^Time of this message \(UTC\): /),
        },
        { type: 'message', role: 'user', content: '¿Abrís el domingo?' },
      ],
    });
  });

  it('given a contact with a conversation, when it writes again, then the conversation is reused', async () => {
    const now = () => new Date('2026-12-03T10:00:00.000Z');
    const first = await responder({ now }).reply(request());

    const second = await responder({ now }).reply(
      request({
        contact: { key: 'wa:34600000001', conversationId: first.conversationId ?? '' },
        text: 'Gracias',
      }),
    );

    expect(second.conversationId).toBe(first.conversationId);
    expect(fake.requestsTo('POST', '/v1/conversations')).toHaveLength(1);
    const items = fake.conversations.get(first.conversationId ?? '')?.items ?? [];
    // Each turn opens with its turn mark (conversation-retention.ts), then the customer's words.
    expect(items.map((item) => [item.role, item.text])).toEqual([
      ['developer', 'Time of this message (UTC): 2026-12-03T10:00:00.000Z'],
      ['user', '¿Abrís el domingo?'],
      ['assistant', '[fake-openai] ¿Abrís el domingo?'],
      ['developer', 'Time of this message (UTC): 2026-12-03T10:00:00.000Z'],
      ['user', 'Gracias'],
      ['assistant', '[fake-openai] Gracias'],
    ]);
  });

  it("given a tenant with its own key, when a customer writes, then the tenant's key is used, not the platform's", async () => {
    fake.acceptKey(TENANT_KEY);

    await responder().reply(request({ tenant: tenant({ openaiApiKey: TENANT_KEY }) }));

    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.keySuffix === TENANT_KEY.slice(-6))).toBe(true);
  });

  it('given OPENAI_BASE_URL and no baseURL option, when a customer writes, then the client goes there', async () => {
    const previous = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = fake.url;
    try {
      const reply = await createOpenAiResponder({ platformApiKey: PLATFORM_KEY, backoffMs: 5 }).reply(
        request(),
      );

      expect(reply.source).toBe('openai');
      expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(1);
    } finally {
      if (previous === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = previous;
    }
  });

  it('given no tenant key and no platform key, when a customer writes, then it fails with no_api_key and calls nobody', async () => {
    const error = await rejection(responder({ platformApiKey: undefined }).reply(request()));

    expect(error.reason).toBe('no_api_key');
    expect(error.retryable).toBe(false);
    expect(error.notConfigured).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it('given no key anywhere, when the chain answers with the FAQ responder, then that is no fallback after a failure', async () => {
    const { withFallback } = await import('../../lib/conversation/fallback-responder.ts');
    const chain = withFallback(responder({ platformApiKey: undefined }), {
      reply: async () => ({ text: 'respuesta de las FAQ', source: 'faq' as const }),
    });

    const reply = await chain.reply(request());

    expect(reply).toEqual({ text: 'respuesta de las FAQ', source: 'faq' });
  });

  it('given the model, instructions and a vector store, when answering, then they reach the request with file_search', async () => {
    const store = await createFaqVectorStore({
      apiKey: PLATFORM_KEY,
      baseURL: fake.url,
      name: 'Casa Pepe',
      faqs: tenant().faqs,
    });
    const withStore = tenant();
    withStore.assistant = {
      ...withStore.assistant,
      model: 'gpt-5.5-mini',
      vector_store_id: store.vectorStoreId,
    };

    await responder().reply(request({ tenant: withStore }));

    const [responded] = fake.requestsTo('POST', '/v1/responses');
    expect(responded?.body).toMatchObject({
      model: 'gpt-5.5-mini',
      instructions: 'You are the assistant of Casa Pepe. Only answer about Casa Pepe.',
      tools: [{ type: 'file_search', vector_store_ids: [store.vectorStoreId], max_num_results: 4 }],
      max_output_tokens: 2000,
      store: true,
    });
  });

  it('given a tenant without a vector store, when answering, then no tools are sent', async () => {
    await responder().reply(request());

    const [responded] = fake.requestsTo('POST', '/v1/responses');
    expect(responded?.body).not.toHaveProperty('tools');
  });

  it('given a queued reply with spaces around it, when answering, then the reply text is trimmed', async () => {
    fake.queueReply('  Abrimos de 9 a 18.  \n');

    const reply = await responder().reply(request());

    expect(reply.text).toBe('Abrimos de 9 a 18.');
  });

  it('given OpenAI answers with no text, when answering, then it is a failure (empty_reply), not an empty message', async () => {
    fake.queueReply('   ');

    const error = await rejection(responder().reply(request()));

    expect(error.reason).toBe('empty_reply');
  });

  it('given two 429s, when a customer writes, then it is answered after retries', async () => {
    fake.failNext(2, { status: 429 });

    const reply = await responder().reply(request());

    expect(reply.text).toBe('[fake-openai] ¿Abrís el domingo?');
    const attempts = fake.requestsTo('POST', '/v1/responses');
    expect(attempts.map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('given 500 every time, when a customer writes, then OpenAiUnavailableError(server_error) after retries + 1 attempts', async () => {
    fake.failNext(10, { status: 500 });

    const error = await rejection(responder({ retries: 3 }).reply(request()));

    expect(error.reason).toBe('server_error');
    expect(error.upstreamStatus).toBe(500);
    expect(error.attempts).toBe(4);
    expect(error.retryable).toBe(true);
    expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(4);
  });

  it('given 503s on conversation creation, when a customer writes, then the same policy retries it', async () => {
    fake.failNext(1, { status: 503 }, { method: 'POST', path: '/v1/conversations' });

    const reply = await responder().reply(request());

    expect(reply.conversationId).toMatch(/^conv_/);
    expect(fake.requestsTo('POST', '/v1/conversations').map((r) => r.status)).toEqual([503, 200]);
  });

  it('given OpenAI slower than the timeout, when a customer writes, then it is retried and ends with reason timeout', async () => {
    fake.failNext(3, { delayMs: 1_000 });

    const error = await rejection(responder({ timeoutMs: 100, retries: 2 }).reply(request()));

    expect(error.reason).toBe('timeout');
    expect(error.attempts).toBe(3);
    expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(3);
  });

  it('given one slow answer, when a customer writes, then the retry answers', async () => {
    fake.failNext(1, { delayMs: 1_000 });

    const reply = await responder({ timeoutMs: 100 }).reply(request());

    expect(reply.text).toBe('[fake-openai] ¿Abrís el domingo?');
  });

  it('given a dropped connection, when a customer writes, then it is retried', async () => {
    fake.failNext(1, { drop: true });

    const reply = await responder().reply(request());

    expect(reply.source).toBe('openai');
    expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(2);
  });

  it('given an invalid tenant key, when a customer writes, then it fails with auth at once (401 is not retried)', async () => {
    const error = await rejection(
      responder().reply(request({ tenant: tenant({ openaiApiKey: 'sk-revoked-999999' }) })),
    );

    expect(error.reason).toBe('auth');
    expect(error.upstreamStatus).toBe(401);
    expect(error.retryable).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });

  it('given a 400, when a customer writes, then it fails with bad_request without retrying', async () => {
    fake.failNext(5, { status: 400, message: 'Invalid model', param: 'model' });

    const error = await rejection(responder().reply(request()));

    expect(error.reason).toBe('bad_request');
    expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(1);
  });

  it('given a 429 for exhausted quota, when a customer writes, then it fails with quota_exceeded without retrying', async () => {
    fake.failNext(5, { status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });

    const error = await rejection(responder().reply(request()));

    expect(error.reason).toBe('quota_exceeded');
    expect(fake.requestsTo('POST', '/v1/responses')).toHaveLength(1);
  });

  it('given a stored conversation OpenAI no longer has, when the contact writes, then a new one is created once', async () => {
    const reply = await responder().reply(
      request({ contact: { key: 'wa:34600000001', conversationId: 'conv_purged' } }),
    );

    expect(reply.conversationId).toMatch(/^conv_/);
    expect(reply.conversationId).not.toBe('conv_purged');
    expect(fake.requestsTo('POST', '/v1/responses').map((r) => r.status)).toEqual([404, 200]);
    expect(fake.requestsTo('POST', '/v1/conversations')).toHaveLength(1);
  });

  it('given a 404 that is not about the conversation, when the contact writes, then it is not hidden', async () => {
    const first = await responder().reply(request());
    fake.failNext(1, { status: 404, message: 'The model does not exist', code: 'model_not_found' });

    const error = await rejection(
      responder().reply(
        request({ contact: { key: 'wa:34600000001', conversationId: first.conversationId ?? '' } }),
      ),
    );

    expect(error.reason).toBe('not_found');
    expect(fake.requestsTo('POST', '/v1/conversations')).toHaveLength(1);
  });
});

describe('deleteConversation', () => {
  it('given an existing conversation, when deleted, then it resolves true and the conversation is gone', async () => {
    const { conversationId } = await responder().reply(request());

    const deleted = await deleteConversation({
      apiKey: PLATFORM_KEY,
      baseURL: fake.url,
      conversationId: conversationId ?? '',
    });

    expect(deleted).toBe(true);
    expect(fake.conversations.size).toBe(0);
  });

  it('given a conversation OpenAI no longer has, when deleted, then it resolves false instead of throwing', async () => {
    const deleted = await deleteConversation({
      apiKey: PLATFORM_KEY,
      baseURL: fake.url,
      conversationId: 'conv_gone',
    });

    expect(deleted).toBe(false);
  });

  it('given OpenAI failing, when deleting, then it throws OpenAiUnavailableError after retries', async () => {
    fake.failNext(5, { status: 502 }, { method: 'DELETE', path: /^\/v1\/conversations\// });

    const error = await rejection(
      deleteConversation({
        apiKey: PLATFORM_KEY,
        baseURL: fake.url,
        conversationId: 'conv_x',
        retries: 1,
        backoffMs: 1,
      }),
    );

    expect(error.reason).toBe('server_error');
    expect(error.attempts).toBe(2);
  });
});

describe('OpenAI responder: the tokens it was billed for', () => {
  it('given an answer, then the reply carries the input and output tokens of the response', async () => {
    const reply = await responder().reply(request());

    expect(reply.usage?.inputTokens).toBeGreaterThan(0);
    // The fake bills a token per four characters of its answer.
    expect(reply.usage?.outputTokens).toBe(Math.ceil(reply.text.length / 4));
  });

  it('given an empty answer, then the failure still carries the tokens billed, and so does the fallback reply', async () => {
    fake.queueReply('');
    const error = await rejection(responder().reply(request()));
    expect(error.reason).toBe('empty_reply');
    expect(error.usage?.inputTokens).toBeGreaterThan(0);

    const { withFallback } = await import('../../lib/conversation/fallback-responder.ts');
    fake.queueReply('');
    const reply = await withFallback(responder(), {
      reply: async () => ({ text: 'respuesta de las FAQ', source: 'faq' as const }),
    }).reply(request());
    expect(reply).toMatchObject({ source: 'faq', fallbackReason: 'empty_reply' });
    expect(reply.usage?.inputTokens).toBeGreaterThan(0);
  });
});

describe('OpenAI responder: what the assistant keeps when OpenAI fails, and key rotation', () => {
  it('given a new contact whose first reply fails, then the new conversation id still reaches the caller', async () => {
    fake.failNext(3, { status: 500 });
    const error = await rejection(responder().reply(request()));
    expect(error.conversationId).toMatch(/^conv_/);
    expect(fake.conversations.has(error.conversationId ?? '')).toBe(true);
  });

  it('and through the fallback, so the purge can delete that conversation later', async () => {
    const { withFallback } = await import('../../lib/conversation/fallback-responder.ts');
    fake.failNext(3, { status: 500 });
    const chain = withFallback(responder(), {
      reply: async () => ({ text: 'respuesta de las FAQ', source: 'faq' as const }),
    });
    const reply = await chain.reply(request());
    expect(reply.source).toBe('faq');
    expect(reply.conversationId).toMatch(/^conv_/);
  });

  it('asks reasoning models for low effort (and leaves the parameter out for others)', async () => {
    await responder().reply(request());
    expect(fake.requestsTo('POST', '/v1/responses').at(-1)?.body).toMatchObject({
      reasoning: { effort: 'low' },
    });
    const classic = tenant();
    classic.assistant = { ...classic.assistant, model: 'gpt-4.1-mini' };
    await responder().reply(request({ tenant: classic }));
    expect(fake.requestsTo('POST', '/v1/responses').at(-1)?.body).not.toHaveProperty('reasoning');
  });

  it('reads the platform key per reply, so a rotated key is used at once', async () => {
    let key = PLATFORM_KEY;
    const rotating = responder({ platformApiKey: async () => key });
    await rotating.reply(request());
    fake.acceptKey('sk-platform-key-ROTATED');
    key = 'sk-platform-key-ROTATED';
    await rotating.reply(request({ contact: { key: 'wa:34600000009' } }));
    const used = fake.requestsTo('POST', '/v1/responses').at(-1)?.keySuffix ?? '';
    expect(used.length).toBeGreaterThan(3);
    expect(key.endsWith(used)).toBe(true);
    expect(PLATFORM_KEY.endsWith(used)).toBe(false);
  });
});

describe('OpenAI responder under a deadline', () => {
  it('starts no attempt that cannot finish before the caller\u2019s deadline, and gives up as a timeout', async () => {
    fake.failNext(6, { status: 500 });
    const error = await rejection(
      responder({ timeoutMs: 200, retries: 5, backoffMs: 50 }).reply(
        request({ contact: { key: 'wa:1', conversationId: 'conv_x' }, deadline: Date.now() + 450 }),
      ),
    );
    // Stopped by the deadline (not by running out of retries): fewer than the six attempts allowed.
    expect(error.reason).toBe('timeout');
    expect(fake.requestsTo('POST', '/v1/responses').length).toBeLessThan(6);
  });
});
