import { beforeAll, describe, expect, it } from 'vitest';
import { type AnswerDeps, handleQueueEvent } from '../../lib/conversation/answer-message.ts';
import type { ConversationStore } from '../../lib/conversation/conversation-store.ts';
import { withFallback } from '../../lib/conversation/fallback-responder.ts';
import type { InboundMessageEvent } from '../../lib/conversation/inbound-event.ts';
import { MessageClaims } from '../../lib/conversation/message-claims.ts';
import { createFaqResponder } from '../../lib/responders/faq-responder.ts';
import type { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { RecordingSender } from '../fakes/conversation-ports.ts';
import { adminApiHarness } from '../support/admin-api-harness.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * Taking a chat over and giving it back through the tenant's and the operator's API
 * (`POST`/`DELETE …/conversations/{contact}/handoff`), on DynamoDB Local with a fixed clock, and what
 * the assistant then does with that chat.
 */

const OPERATOR_KEY = 'op_test_key_handoff_api_0123';
const NOW = Date.parse('2026-11-24T10:00:00.000Z');
const MINUTE = 60_000;
let clockMs = NOW;
const now = () => new Date(clockMs);

const api = adminApiHarness({ operatorKey: OPERATOR_KEY, addressBlock: 41, now });
const { call, asOperator } = api;
let conversations: ConversationStore;
let repository: ClientRepository;
let assistant: AnswerDeps;
const sender = new RecordingSender();

beforeAll(async () => {
  const built = await api.start();
  ({ conversations, repository } = built);
  assistant = {
    clients: repository,
    conversations,
    claims: new MessageClaims(built.aws.dynamo, built.tableName, 30_000),
    sender,
    responder: withFallback(undefined, createFaqResponder()),
    secrets: api.secrets,
    platformWhatsAppToken: async () => 'platform-token',
    retentionHours: 24,
    now,
  };
});

let phoneSeq = 741000;
let messageSeq = 0;
/** A tenant with a key and one customer it has already welcomed. */
async function newTenant(overrides: Record<string, unknown> = {}) {
  clockMs = NOW;
  const created = await asOperator('POST', '/clients', {
    body: {
      name: `Restaurante ${phoneSeq}`,
      phone_number: '+34666777888',
      phone_number_id: String(phoneSeq++),
      faqs: laPlazaFaqs,
      language: 'es',
      ...overrides,
    },
  });
  expect(created.status).toBe(201);
  const key = await asOperator('POST', `/clients/${created.body.id}/api-keys`);
  const customer = `3462${phoneSeq}`;
  await conversations.touchInbound(created.body.id, { key: customer, wa_id: customer }, now(), 24);
  await conversations.updateContact(created.body.id, customer, { welcomed_at: now().toISOString() });
  const tenant = {
    id: created.body.id as string,
    phoneNumberId: created.body.phone_number_id as string,
    key: key.body.api_key as string,
    customer,
  };
  const ask = (text = '¿Tenéis menú del día?') => {
    const event: InboundMessageEvent = {
      v: 1,
      kind: 'message',
      tenant_id: tenant.id,
      phone_number_id: tenant.phoneNumberId,
      contact: { key: customer, wa_id: customer },
      message: { id: `wamid.api.${++messageSeq}`, type: 'text', timestamp: 1795560000, text },
      received_at: now().toISOString(),
    };
    return handleQueueEvent(event, assistant);
  };
  return { ...tenant, ask };
}

const listed = async (path: string, key: string) =>
  ((await call('GET', path, { key })).body.conversations as { contact: string; handoff: unknown }[]).map(
    ({ contact, handoff }) => ({ contact, handoff }),
  );

describe("the tenant's handoff routes", () => {
  it('when the tenant takes a chat over, then both lists flag it, the bot is silent there, and the release lets it answer at once', async () => {
    const tenant = await newTenant({ handoff_minutes: 45 });
    const path = `/tenant/conversations/${tenant.customer}/handoff`;

    const taken = await call('POST', path, { key: tenant.key });

    const handoff = { by: 'tenant', until: new Date(NOW + 45 * MINUTE).toISOString() };
    expect(taken).toMatchObject({ status: 200, body: { contact: tenant.customer, handoff } });
    const row = [{ contact: tenant.customer, handoff }];
    expect(await listed('/tenant/conversations', tenant.key)).toEqual(row);
    expect(await listed(`/clients/${tenant.id}/conversations`, OPERATOR_KEY)).toEqual(row);
    expect(await tenant.ask()).toBe('no_reply');

    const released = await call('DELETE', path, { key: tenant.key });

    expect(released).toMatchObject({ status: 200, body: { contact: tenant.customer, handoff: null } });
    expect(await listed('/tenant/conversations', tenant.key)).toEqual([
      { contact: tenant.customer, handoff: null },
    ]);
    expect(await tenant.ask()).toBe('replied');
  });

  it('when the handoff runs out, then the lists show null and the bot answers by itself', async () => {
    const tenant = await newTenant();
    const until = new Date(NOW + 10 * MINUTE).toISOString();
    const taken = await call('POST', `/tenant/conversations/${tenant.customer}/handoff`, {
      key: tenant.key,
      body: { until },
    });
    expect(taken.body.handoff).toEqual({ by: 'tenant', until });

    clockMs = NOW + 11 * MINUTE;

    expect(await listed('/tenant/conversations', tenant.key)).toEqual([
      { contact: tenant.customer, handoff: null },
    ]);
    expect(await tenant.ask()).toBe('replied');
  });

  it.each([
    ['a time in the past', { until: '2026-11-24T09:59:00Z' }, 'until must be in the future'],
    ['more than 30 days ahead', { until: '2026-12-25T10:00:00Z' }, 'until must be at most 30 days ahead'],
    ['no ISO 8601 time', { until: 'tomorrow' }, 'until'],
    ['an unknown field', { until_minutes: 5 }, 'until_minutes'],
  ])('when the body has %s, then 400 with the reason and nothing changes', async (_, body, reason) => {
    const tenant = await newTenant();
    const res = await call('POST', `/tenant/conversations/${tenant.customer}/handoff`, {
      key: tenant.key,
      body,
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(reason);
    expect((await conversations.getContact(tenant.id, tenant.customer))?.handoff_until).toBeUndefined();
  });

  it('when the contact is unknown, then 404 and no contact is created', async () => {
    const tenant = await newTenant();
    for (const method of ['POST', 'DELETE']) {
      const res = await call(method, '/tenant/conversations/34699999999/handoff', { key: tenant.key });
      expect({ method, status: res.status }).toEqual({ method, status: 404 });
    }
    expect(await conversations.getContact(tenant.id, '34699999999')).toBeUndefined();
  });

  it('when a person writes during a longer handoff of the tenant, then it is not shortened', async () => {
    const tenant = await newTenant();
    const until = new Date(NOW + 3 * 24 * 60 * MINUTE).toISOString();
    await call('POST', `/tenant/conversations/${tenant.customer}/handoff`, {
      key: tenant.key,
      body: { until },
    });
    const owner = {
      v: 1 as const,
      kind: 'owner_message' as const,
      channel: 'cloud_api' as const,
      tenant_id: tenant.id,
      phone_number_id: tenant.phoneNumberId,
      contact: { key: tenant.customer, wa_id: tenant.customer },
      message: { id: 'wamid.person.1', timestamp: 1795560000 },
      received_at: now().toISOString(),
    };
    expect(await handleQueueEvent(owner, assistant)).toBe('handoff_recorded');
    expect(await listed('/tenant/conversations', tenant.key)).toEqual([
      { contact: tenant.customer, handoff: { by: 'tenant', until } },
    ]);
  });
});

describe("the operator's handoff routes", () => {
  it('when the operator takes a chat over and releases it, then it is flagged operator, then the bot answers', async () => {
    const tenant = await newTenant();
    const path = `/clients/${tenant.id}/conversations/${tenant.customer}/handoff`;
    const until = new Date(NOW + 2 * 60 * MINUTE).toISOString();

    const taken = await asOperator('POST', path, { body: { until } });

    expect(taken).toMatchObject({ status: 200, body: { handoff: { by: 'operator', until } } });
    expect(await listed('/tenant/conversations', tenant.key)).toEqual([
      { contact: tenant.customer, handoff: { by: 'operator', until } },
    ]);
    expect(await tenant.ask()).toBe('no_reply');

    expect((await asOperator('DELETE', path)).body).toEqual({ contact: tenant.customer, handoff: null });
    expect(await tenant.ask()).toBe('replied');
  });

  it('when the client or the contact is unknown, then 404', async () => {
    const tenant = await newTenant();
    expect(
      (await asOperator('POST', `/clients/cl_nobody/conversations/${tenant.customer}/handoff`)).status,
    ).toBe(404);
    expect(
      (await asOperator('DELETE', `/clients/${tenant.id}/conversations/34699999999/handoff`)).status,
    ).toBe(404);
  });

  it('when a customer asked for a person, then the tenant sees the chat flagged customer_request', async () => {
    const tenant = await newTenant();
    expect(await tenant.ask('talk to a human')).toBe('replied');
    expect(await listed(`/clients/${tenant.id}/conversations`, OPERATOR_KEY)).toEqual([
      {
        contact: tenant.customer,
        handoff: { by: 'customer_request', until: new Date(NOW + 60 * MINUTE).toISOString() },
      },
    ]);
  });
});
