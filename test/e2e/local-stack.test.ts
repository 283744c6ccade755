import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { buildInboundMediaPayload } from '../../infra/local/simulator/inbound-payloads.ts';
import { demoClient, type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { allRoutes } from '../../lib/topology.ts';
import { signWebhookBody } from '../../lib/webhook/signature.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.ts';
import { uniqueName } from '../support/emulators.ts';
import { laPlazaFaqs, metaJson } from '../support/fixtures.ts';
import { jpegImage, oggVoiceNote } from '../support/media-samples.ts';

/**
 * The whole product through the local stack, over HTTP: the operator creates a tenant, Meta delivers
 * signed webhooks, the assistant answers through OpenAI (a local fake speaking its wire format) and
 * replies through the Graph API (an outside fake, configured by GRAPH_API_BASE_URL).
 */

let stack: LocalStack;
let graph: StandaloneSimulator;
let openai: FakeOpenAi;
const APP_SECRET = 'e2e-app-secret';

beforeAll(async () => {
  openai = await startFakeOpenAi();
  graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
  stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('e2e'),
    withSes: false,
    seedDemo: true,
    retryDelaySeconds: 1,
    env: {
      META_APP_SECRET: APP_SECRET,
      META_VERIFY_TOKEN: 'e2e-verify',
      OPERATOR_API_KEY: 'e2e-operator-key',
      GRAPH_API_BASE_URL: graph.graphBaseUrl,
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
  await graph?.stop();
  await openai?.stop();
});

beforeEach(() => {
  graph.simulator.reset();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: 'Bearer e2e-operator-key', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let customerSeq = 34622000000;
async function customerWrites(phoneNumberId: string, text: string, from = String(customerSeq++)) {
  const messageId = `wamid.E2E${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const body = metaJson(
    graph.simulator.buildInboundPayload({ phoneNumberId, from, text, messageId, name: 'Ana' }),
  );
  const res = await fetch(`${stack.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
    body,
  });
  return { status: res.status, from, messageId };
}

/** A customer's media as Meta delivers it: registered on the Graph stand-in, announced by a signed webhook. */
async function customerSends(
  phoneNumberId: string,
  from: string,
  media: {
    kind: 'audio' | 'image' | 'document';
    mimeType: string;
    data: Buffer;
    voice?: boolean;
    caption?: string;
  },
) {
  const messageId = `wamid.E2E${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const { data, ...fields } = media;
  const mediaId = graph.simulator.addMedia({ mimeType: media.mimeType.split(';')[0]!, data });
  const body = metaJson(
    buildInboundMediaPayload({
      ...fields,
      phoneNumberId,
      from,
      messageId,
      name: 'Ana',
      mediaId,
      sha256: createHash('sha256').update(data).digest('base64'),
    }),
  );
  const res = await fetch(`${stack.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
    body,
  });
  return { status: res.status, messageId };
}

const repliesTo = (from: string) => graph.simulator.sent.filter((m) => m.to === from || m.recipient === from);

let tenantNumber = 880000100;
async function createTenant(extra: Record<string, unknown> = {}) {
  const created = await api('POST', '/clients', {
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: String(tenantNumber++),
    faqs: laPlazaFaqs,
    business_hours: 'L-V: 9:00-22:00, S: 10:00-23:00',
    ...extra,
  });
  expect(created.status).toBe(201);
  return created.body;
}

describe('the local stack', () => {
  it('is healthy, serves every route of the topology, and seeded the demo tenant', async () => {
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    for (const route of allRoutes()) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? 'cl_x' : 'x'));
      const res = await fetch(`${stack.url}${path}`, { method: route.method });
      // Served: the route's own answer (an unknown slug's 404 page included), never the stack's "no route".
      expect(await res.text(), `${route.method} ${route.path}`).not.toBe('{"error":"not_found"}');
      if (route.auth === 'operator-key' || route.auth === 'tenant-key') {
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
      }
    }
    const clients = await api('GET', '/clients');
    expect(clients.body.clients.map((c: { phone_number_id: string }) => c.phone_number_id)).toContain(
      demoClient.phone_number_id,
    );
  });

  it('answers Meta\u2019s verification and rejects unsigned deliveries', async () => {
    const ok = await fetch(
      `${stack.url}/webhook?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=42`,
    );
    expect(await ok.text()).toBe('42');
    expect(
      (await fetch(`${stack.url}/webhook?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42`)).status,
    ).toBe(403);
    const unsigned = await fetch(`${stack.url}/webhook`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(401);
  });
});

describe('a tenant on OpenAI', () => {
  it('is provisioned with a vector store of its FAQs, then answers through Responses + Conversations', async () => {
    const tenant = await createTenant();
    expect(tenant.assistant_status).toBe('pending');
    const ready = await eventually(async () => {
      const { body } = await api('GET', `/clients/${tenant.id}`);
      return body.assistant_status === 'ready' ? body : undefined;
    });
    expect(ready.assistant_version).toBe(1);
    expect(openai.vectorStores.size).toBeGreaterThan(0);

    const first = await customerWrites(tenant.phone_number_id, '¿Abrís el domingo?');
    expect(first.status).toBe(200);
    const reply = await eventually(() => repliesTo(first.from)[0]);
    expect(reply.text).toBe('[fake-openai] ¿Abrís el domingo?');
    expect(reply.context?.message_id).toBe(first.messageId);
    expect(reply.tokenSuffix).toBe('PLAT');

    // The same contact's second message continues the same OpenAI conversation.
    const conversationsBefore = openai.conversations.size;
    await customerWrites(tenant.phone_number_id, '¿Y el sábado?', first.from);
    await eventually(() => repliesTo(first.from)[1]);
    expect(openai.conversations.size).toBe(conversationsBefore);
    const responses = openai.requestsTo('POST', '/v1/responses').slice(-2) as Array<{ body?: any }>;
    expect(responses[0]?.body?.conversation).toBe(responses[1]?.body?.conversation);
    expect(responses[1]?.body?.instructions).toContain('Restaurante La Plaza');
    expect(responses[1]?.body?.tools?.[0]?.type).toBe('file_search');

    // The operator sees the conversation and both directions of messages.
    const conversations = await api('GET', `/clients/${tenant.id}/conversations`);
    expect(conversations.body.conversations.map((c: { contact: string }) => c.contact)).toContain(
      reply.recipient ?? reply.to,
    );
    const contactKey = conversations.body.conversations[0].contact;
    const messages = await api(
      'GET',
      `/clients/${tenant.id}/conversations/${encodeURIComponent(contactKey)}/messages`,
    );
    expect(messages.body.messages.map((m: { direction: string }) => m.direction)).toEqual([
      'outbound',
      'inbound',
      'outbound',
      'inbound',
    ]);
  });

  it('given a voice note, then it is fetched from the Graph API, kept, transcribed and answered; a photo goes to the model', async () => {
    const tenant = await createTenant({ reply_delay_seconds: 0 });
    const from = String(customerSeq++);
    const note = oggVoiceNote('¿Abrís el domingo?', 3);
    const voice = await customerSends(tenant.phone_number_id, from, {
      kind: 'audio',
      mimeType: 'audio/ogg; codecs=opus',
      voice: true,
      data: note,
    });
    expect(voice.status).toBe(200);
    const reply = await eventually(() => repliesTo(from)[0]);
    expect(reply.text).toBe('[fake-openai] ¿Abrís el domingo?');
    expect(openai.transcriptions.at(-1)).toMatchObject({
      filename: 'voice.ogg',
      model: 'gpt-transcribe',
    });

    const photo = jpegImage();
    await customerSends(tenant.phone_number_id, from, {
      kind: 'image',
      mimeType: 'image/jpeg',
      caption: '¿tenéis esto en talla M?',
      data: photo,
    });
    await eventually(() => repliesTo(from)[1]);
    const user = (openai.requestsTo('POST', '/v1/responses').at(-1)!.body as any).input.find(
      (item: { role?: string }) => item.role === 'user',
    );
    expect(user.content[1]).toMatchObject({ type: 'input_image', detail: 'low' });

    // The operator sees the transcript, marked as one, and what was kept.
    const messages = await api(
      'GET',
      `/clients/${tenant.id}/conversations/${encodeURIComponent(from)}/messages`,
    );
    const inbound = messages.body.messages.filter((m: { direction: string }) => m.direction === 'inbound');
    expect(inbound).toEqual([
      expect.objectContaining({ type: 'image', media: { mime_type: 'image/jpeg', bytes: photo.length } }),
      expect.objectContaining({
        type: 'audio',
        text: '¿Abrís el domingo?',
        transcript: expect.objectContaining({ model: 'gpt-transcribe', seconds: 3 }),
        media: { mime_type: 'audio/ogg', bytes: note.length },
      }),
    ]);
  });

  it('given a burst of three messages, then one answer to the whole burst after the reply delay (the default 3 s)', async () => {
    const tenant = await createTenant();
    expect(tenant.reply_delay_seconds).toBe(3);
    await eventually(async () =>
      (await api('GET', `/clients/${tenant.id}`)).body.assistant_status === 'ready' ? true : undefined,
    );
    const burst = ['hola', 'una pregunta', '¿abrís el domingo?'];
    const first = await customerWrites(tenant.phone_number_id, burst[0]!);
    await customerWrites(tenant.phone_number_id, burst[1]!, first.from);
    const last = await customerWrites(tenant.phone_number_id, burst[2]!, first.from);
    const reply = await eventually(() => repliesTo(first.from)[0]);
    expect(reply.text).toBe(`[fake-openai] ${burst.join('\n')}`);
    expect(reply.context?.message_id).toBe(last.messageId);
    expect(repliesTo(first.from)).toHaveLength(1);
  });

  it.each([
    ['429 on every attempt', { status: 429 }],
    ['500 on every attempt', { status: 500 }],
    ['timeouts', { delayMs: 1000 }],
  ])('given OpenAI answers %s, then it retries, then answers from the FAQs', async (_, failure) => {
    const tenant = await createTenant();
    await eventually(async () =>
      (await api('GET', `/clients/${tenant.id}`)).body.assistant_status === 'ready' ? true : undefined,
    );
    const before = openai.requestsTo('POST', '/v1/responses').length;
    openai.failNext(3, failure as never);
    const { from } = await customerWrites(tenant.phone_number_id, '¿Tenéis menú del día?');
    const reply = await eventually(() => repliesTo(from)[0]);
    expect(reply.text).toContain('12€');
    expect(openai.requestsTo('POST', '/v1/responses').length - before).toBe(3);
  });

  it('given new FAQs, then the assistant is rebuilt as a new version with a new vector store', async () => {
    const tenant = await createTenant();
    const v1 = await eventually(async () => {
      const { body } = await api('GET', `/clients/${tenant.id}`);
      return body.assistant_status === 'ready' ? body : undefined;
    });
    const patched = await api('PATCH', `/clients/${tenant.id}`, {
      faqs: [...laPlazaFaqs, { q: '¿Hay terraza?', a: 'Sí, con 10 mesas.' }],
    });
    expect(patched.body.assistant_version).toBe(2);
    const v2 = await eventually(async () => {
      const { body } = await api('GET', `/clients/${tenant.id}`);
      return body.assistant_status === 'ready' && body.assistant_version === 2 ? body : undefined;
    });
    expect(v2.assistant_id).toBe(v1.assistant_id);
    const uploads = openai.requestsTo('POST', '/v1/files');
    expect(uploads.length).toBeGreaterThanOrEqual(2);
  });
});

describe('erasure', () => {
  it('erases a contact completely, and the bot answers their next message as a new conversation', async () => {
    const tenant = await createTenant({ welcome_message: 'Bienvenido a La Plaza' });
    await eventually(async () =>
      (await api('GET', `/clients/${tenant.id}`)).body.assistant_status === 'ready' ? true : undefined,
    );
    const first = await customerWrites(tenant.phone_number_id, '¿Abrís el domingo?');
    await eventually(() => repliesTo(first.from)[1]);
    const contact = repliesTo(first.from)[0]!.recipient ?? first.from;
    const conversationBefore = openai.requestsTo('POST', '/v1/responses').at(-1)?.body as {
      conversation?: string;
    };

    const erased = await api('DELETE', `/clients/${tenant.id}/conversations/${encodeURIComponent(contact)}`);
    expect(erased.body).toMatchObject({
      messages_deleted: 3,
      conversations_deleted: 1,
      openai_conversations_deleted: 1,
    });
    expect(openai.conversations.has(conversationBefore.conversation!)).toBe(false);
    expect(
      (await api('GET', `/clients/${tenant.id}/conversations/${encodeURIComponent(contact)}/messages`))
        .status,
    ).toBe(404);

    graph.simulator.reset();
    await customerWrites(tenant.phone_number_id, '¿Y el sábado?', first.from);
    const replies = await eventually(() =>
      repliesTo(first.from).length >= 2 ? repliesTo(first.from) : undefined,
    );
    expect(replies[0]?.text).toBe('Bienvenido a La Plaza');
    const conversationAfter = openai.requestsTo('POST', '/v1/responses').at(-1)?.body as {
      conversation?: string;
    };
    expect(conversationAfter.conversation).not.toBe(conversationBefore.conversation);
  });

  it('POST /admin/purge with zero hours empties a tenant, and GET /admin/purges shows the run', async () => {
    const tenant = await createTenant();
    await eventually(async () =>
      (await api('GET', `/clients/${tenant.id}`)).body.assistant_status === 'ready' ? true : undefined,
    );
    const { from } = await customerWrites(tenant.phone_number_id, '¿Hay terraza?');
    await eventually(() => repliesTo(from)[0]);
    await stack.drained();
    const run = await api('POST', '/admin/purge', { client_id: tenant.id, older_than_hours: 0 });
    expect(run.body).toMatchObject({
      status: 'completed',
      messages_deleted: 2,
      conversations_deleted: 1,
      openai_conversations_deleted: 1,
    });
    expect((await api('GET', `/clients/${tenant.id}/conversations`)).body.conversations).toEqual([]);
    const runs = await api('GET', '/admin/purges');
    expect(runs.body.runs.map((r: { run_id: string }) => r.run_id)).toContain(run.body.run_id);
  });
});

describe('routing', () => {
  it('acknowledges messages for unknown numbers and deactivated tenants without answering them', async () => {
    const unknown = await customerWrites('123123123123', 'hola');
    expect(unknown.status).toBe(200);
    const tenant = await createTenant();
    expect((await api('DELETE', `/clients/${tenant.id}`)).body.active).toBe(false);
    const inactive = await customerWrites(tenant.phone_number_id, '¿Tenéis menú del día?');
    expect(inactive.status).toBe(200);
    await stack.drained();
    expect(repliesTo(unknown.from)).toHaveLength(0);
    expect(repliesTo(inactive.from)).toHaveLength(0);
  });
});
