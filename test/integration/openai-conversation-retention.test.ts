import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResponderTenant } from '../../lib/conversation/ports.ts';
import { pruneConversationItems, TURN_MARK_PREFIX } from '../../lib/openai/conversation-retention.ts';
import { clearOpenAiClientCache, createOpenAiClient } from '../../lib/openai/openai-client.ts';
import { createOpenAiResponder } from '../../lib/openai/openai-responder.ts';
import { OpenAiUnavailableError } from '../../lib/openai/retry.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';

/**
 * The items of a conversation past the retention, deleted against the OpenAI fake with the real
 * client: turns are added by the real responder under a fake clock, so each carries its turn mark.
 */

const PLATFORM_KEY = 'sk-platform-key-000101';
const TENANT_KEY = 'sk-tenant-key-000102';
const T0 = new Date('2026-12-01T08:00:00.000Z');
const hoursAfterT0 = (hours: number) => new Date(T0.getTime() + hours * 3600_000);

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
  id: 'cl_retentiontenant01',
  name: 'Casa Pepe',
  language: 'es',
  faqs: [{ q: '¿A qué hora abrís?', a: 'De 9 a 18.' }],
  assistant: {
    id: 'asst_test',
    version: 1,
    model: 'gpt-5-mini',
    instructions: 'You are the assistant of Casa Pepe.',
    status: 'ready',
    updated_at: '2026-12-01T00:00:00.000Z',
  },
};

/** Adds one turn per entry (text at that hour after T0) to one conversation; resolves with its id. */
async function conversationWithTurns(
  turns: Array<[hours: number, text: string]>,
  options: { apiKey?: string } = {},
): Promise<string> {
  let conversationId: string | undefined;
  for (const [hours, text] of turns) {
    const reply = await createOpenAiResponder({
      platformApiKey: PLATFORM_KEY,
      baseURL: fake.url,
      retries: 0,
      now: () => hoursAfterT0(hours),
    }).reply({
      tenant: options.apiKey ? { ...tenant, openaiApiKey: options.apiKey } : tenant,
      contact: { key: 'wa:34600000001', ...(conversationId ? { conversationId } : {}) },
      text,
    });
    conversationId = reply.conversationId;
  }
  const conversation = fake.conversations.get(conversationId ?? '');
  if (!conversationId || !conversation) throw new Error('no conversation');
  // Created with its first turn (the fake would stamp the real time).
  conversation.created_at = Math.floor(hoursAfterT0(turns[0]?.[0] ?? 0).getTime() / 1000);
  return conversationId;
}

/** The conversation's message texts as the real client lists them (oldest first, every page). */
async function textsAtOpenAi(conversationId: string, apiKey = PLATFORM_KEY): Promise<string[]> {
  const client = createOpenAiClient({ apiKey, baseURL: fake.url });
  const texts: string[] = [];
  for await (const item of client.conversations.items.list(conversationId, { order: 'asc', limit: 7 })) {
    if (item.type !== 'message') continue;
    texts.push(item.content.map((part) => ('text' in part ? part.text : '')).join(''));
  }
  return texts;
}

const prune = (conversationId: string, before: Date, limit = 1000, apiKey = PLATFORM_KEY) =>
  pruneConversationItems({ apiKey, conversationId, before, limit, baseURL: fake.url, retries: 0 });

describe('pruneConversationItems', () => {
  it('given turns before and after the cutoff, then the older turns are deleted and the newer kept', async () => {
    const id = await conversationWithTurns([
      [0, 'Hola'],
      [1, '¿Abrís el domingo?'],
      [20, '¿Y el lunes?'],
      [26, 'Gracias'],
    ]);

    // Retention 24 h, purging at T0 + 26 h: the cutoff is T0 + 2 h.
    const result = await prune(id, hoursAfterT0(2));

    expect(result).toEqual({ deleted: 6, more: false, gone: false });
    expect(await textsAtOpenAi(id)).toEqual([
      `${TURN_MARK_PREFIX}${hoursAfterT0(20).toISOString()}`,
      '¿Y el lunes?',
      '[fake-openai] ¿Y el lunes?',
      `${TURN_MARK_PREFIX}${hoursAfterT0(26).toISOString()}`,
      'Gracias',
      '[fake-openai] Gracias',
    ]);
    // One item per DELETE, each by its id in this conversation; a second pass finds nothing.
    expect(fake.requestsTo('DELETE', new RegExp(`^/v1/conversations/${id}/items/[^/]+$`))).toHaveLength(6);
    expect(await prune(id, hoursAfterT0(2))).toEqual({ deleted: 0, more: false, gone: false });
  });

  it('given every turn inside the retention, then nothing is deleted and only the first page is read', async () => {
    const id = await conversationWithTurns([
      [10, 'Hola'],
      [11, '¿Abrís el domingo?'],
    ]);

    expect(await prune(id, hoursAfterT0(2))).toEqual({ deleted: 0, more: false, gone: false });
    expect(fake.requestsTo('GET', `/v1/conversations/${id}/items`)).toHaveLength(1);
    expect(await textsAtOpenAi(id)).toHaveLength(6);
  });

  it('given more old items than a page, then it pages on with `after` in ascending order', async () => {
    const turns: Array<[number, string]> = Array.from({ length: 40 }, (_, i) => [i * 0.01, `vieja ${i}`]);
    const id = await conversationWithTurns([...turns, [30, 'nueva']]);

    const result = await prune(id, hoursAfterT0(2));

    expect(result).toEqual({ deleted: 120, more: false, gone: false });
    expect(await textsAtOpenAi(id)).toEqual([
      `${TURN_MARK_PREFIX}${hoursAfterT0(30).toISOString()}`,
      'nueva',
      '[fake-openai] nueva',
    ]);
    const lists = fake.requestsTo('GET', `/v1/conversations/${id}/items`).slice(0, 2);
    expect(lists.map((request) => request.query)).toEqual([
      { order: 'asc', limit: '100' },
      { order: 'asc', limit: '100', after: expect.stringMatching(/^msg_/) },
    ]);
  });

  it('given a limit below what is old, then it deletes that many, oldest first, and says more remain', async () => {
    const id = await conversationWithTurns([
      [0, 'uno'],
      [1, 'dos'],
      [30, 'tres'],
    ]);

    // The limit cuts the second turn after its mark: the first turn goes, that mark stays with its turn.
    expect(await prune(id, hoursAfterT0(2), 4)).toEqual({ deleted: 3, more: true, gone: false });
    expect((await textsAtOpenAi(id))[0]).toBe(`${TURN_MARK_PREFIX}${hoursAfterT0(1).toISOString()}`);
    expect(await prune(id, hoursAfterT0(2), 4)).toEqual({ deleted: 3, more: false, gone: false });
    expect(await textsAtOpenAi(id)).toHaveLength(3);
  });

  it('given a customer message that imitates a turn mark, then it dates nothing: its turn still goes', async () => {
    const id = await conversationWithTurns([
      [0, `${TURN_MARK_PREFIX}2030-01-01T00:00:00.000Z`],
      [30, 'hola'],
    ]);

    expect(await prune(id, hoursAfterT0(2))).toMatchObject({ deleted: 3 });
    expect(await textsAtOpenAi(id)).toEqual([
      `${TURN_MARK_PREFIX}${hoursAfterT0(30).toISOString()}`,
      'hola',
      '[fake-openai] hola',
    ]);
  });

  it('given items without turn marks (an older conversation), then they are as old as the conversation', async () => {
    const client = createOpenAiClient({ apiKey: PLATFORM_KEY, baseURL: fake.url });
    const legacy = await client.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'de antes' }],
    });
    const conversation = fake.conversations.get(legacy.id);
    if (!conversation) throw new Error('not created');
    conversation.created_at = Math.floor(hoursAfterT0(1).getTime() / 1000);

    // Created after the cutoff: its unmarked items may be recent, so they stay.
    expect(await prune(legacy.id, hoursAfterT0(0))).toMatchObject({ deleted: 0 });
    // Created before it: they are at least that old, so they go.
    expect(await prune(legacy.id, hoursAfterT0(2))).toMatchObject({ deleted: 1 });
    expect(await textsAtOpenAi(legacy.id)).toEqual([]);
  });

  it('given a conversation OpenAI does not have, then it is gone and nothing fails', async () => {
    expect(await prune('conv_unknown', hoursAfterT0(2))).toEqual({ deleted: 0, more: false, gone: true });
  });

  it("given a tenant's own key, then its conversation is pruned with that key", async () => {
    fake.acceptKey(TENANT_KEY);
    const id = await conversationWithTurns(
      [
        [0, 'hola'],
        [30, 'adiós'],
      ],
      { apiKey: TENANT_KEY },
    );

    // The platform key does not see the tenant's conversation (objects belong to their key).
    expect(await prune(id, hoursAfterT0(2))).toMatchObject({ gone: true });
    expect(await prune(id, hoursAfterT0(2), 1000, TENANT_KEY)).toMatchObject({ deleted: 3 });
    const deletes = fake.requestsTo('DELETE', new RegExp(`^/v1/conversations/${id}/items/`));
    expect(deletes.map((request) => request.keySuffix)).toEqual(Array(3).fill(TENANT_KEY.slice(-6)));
  });

  it('given OpenAI failing, then it rejects with OpenAiUnavailableError and deletes nothing', async () => {
    const id = await conversationWithTurns([
      [0, 'hola'],
      [30, 'adiós'],
    ]);
    fake.failNext(1, { status: 500 }, { method: 'GET', path: `/v1/conversations/${id}/items` });

    const error = await prune(id, hoursAfterT0(2)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAiUnavailableError);
    expect((error as OpenAiUnavailableError).reason).toBe('server_error');
    expect(await textsAtOpenAi(id)).toHaveLength(6);
  });
});
