import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatedWabaIdOf } from '../../infra/local/simulator/graph-read-endpoints.ts';
import {
  type SimulatedTemplate,
  type StandaloneSimulator,
  startStandaloneSimulator,
} from '../../infra/local/whatsapp-simulator.ts';
import { templatesResponseSchema } from '../../lib/templates/template-schemas.ts';
import { adminApiHarness } from '../support/admin-api-harness.ts';
import { laPlazaFaqs } from '../support/fixtures.ts';

/**
 * The tenant's message templates through the admin API, read from the Graph stand-in: the list
 * (approved only, every page, cached), the errors Meta's answers become, and the check of a
 * `window_template` when it is set through either PATCH.
 */

const OPERATOR_KEY = 'op_test_key_tenant_templates_0123';
const PLATFORM_TOKEN = 'platform-token-for-templates';
/** The numbers the Graph stand-in knows (a WABA holds those whose simulated WABA id it is). */
const businesses: { phoneNumberId: string; name: string }[] = [];

let graph: StandaloneSimulator;
const api = adminApiHarness({
  operatorKey: OPERATOR_KEY,
  addressBlock: 21,
  secretKey: 'tenant-templates-test-key',
  graphBaseUrl: () => graph.graphBaseUrl,
  platformAccessToken: PLATFORM_TOKEN,
});
const { call, asOperator } = api;

beforeAll(async () => {
  graph = await startStandaloneSimulator({
    appSecret: 'templates-app-secret',
    platformAccessToken: PLATFORM_TOKEN,
    listBusinesses: async () => businesses,
  });
  await api.start();
});

afterAll(async () => {
  await graph?.stop();
});

beforeEach(() => {
  graph.simulator.reset();
});

let seq = 760000;
async function newTenant(options: { wabaId?: string } = {}) {
  const wabaId = options.wabaId ?? String(102290000000000 + seq);
  const created = await asOperator('POST', '/clients', {
    body: {
      name: `Restaurante ${seq}`,
      phone_number: '+34666777888',
      phone_number_id: String(seq++),
      faqs: laPlazaFaqs,
      whatsapp_access_token: `EAAGtenantTemplatesToken${seq}`,
      ...(options.wabaId === '' ? {} : { waba_id: wabaId }),
    },
  });
  expect(created.status).toBe(201);
  const key = await asOperator('POST', `/clients/${created.body.id}/api-keys`);
  return { id: created.body.id as string, key: key.body.api_key as string, wabaId };
}

const templateCalls = () =>
  graph.simulator.graphCalls.filter((c) => c.path.endsWith('/message_templates')).length;

describe('GET /tenant/templates', () => {
  it("given a WABA with approved and pending templates, then the approved ones, then the cached copy without asking Meta again, and Meta's with refresh", async () => {
    const tenant = await newTenant();

    const first = await call('GET', '/tenant/templates', { key: tenant.key });

    expect(first.status).toBe(200);
    const body = templatesResponseSchema.parse(first.body);
    expect(body.waba_id).toBe(tenant.wabaId);
    expect(body.cached).toBe(false);
    expect(body.templates.map((t) => [t.name, t.language, t.status, t.body_parameters])).toEqual([
      ['respuesta_pendiente', 'es', 'APPROVED', 1],
      ['pending_reply', 'en', 'APPROVED', 1],
    ]);
    expect(templateCalls()).toBe(1);

    const second = await call('GET', '/tenant/templates', { key: tenant.key });
    expect(second.body).toMatchObject({ cached: true, fetched_at: body.fetched_at });
    expect(second.body.templates).toEqual(body.templates);
    expect(templateCalls()).toBe(1);

    const refreshed = await call('GET', '/tenant/templates', { key: tenant.key, query: { refresh: 'true' } });
    expect(refreshed.body.cached).toBe(false);
    expect(templateCalls()).toBe(2);
  });

  it('given more templates than a page holds, then every page is read', async () => {
    const tenant = await newTenant();
    const many: SimulatedTemplate[] = Array.from({ length: 130 }, (_, index) => ({
      name: `plantilla_${index}`,
      language: 'es',
      status: 'APPROVED',
      category: 'UTILITY',
      body: index % 2 === 0 ? 'Hola {{1}}, {{2}}' : 'Sin parámetros',
    }));
    graph.simulator.setTemplates(tenant.wabaId, many);

    const res = await call('GET', '/tenant/templates', { key: tenant.key });

    expect(res.status).toBe(200);
    expect(res.body.templates).toHaveLength(130);
    expect(res.body.templates[0]).toMatchObject({ name: 'plantilla_0', body_parameters: 2 });
    expect(res.body.templates[1]).toMatchObject({ name: 'plantilla_1', body_parameters: 0 });
    expect(templateCalls()).toBe(2);
  });

  it('given no waba_id, then 409 saying to set it, and nothing is asked of Meta', async () => {
    const tenant = await newTenant({ wabaId: '' });
    const res = await call('GET', '/tenant/templates', { key: tenant.key });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/no waba_id is set/);
    expect(templateCalls()).toBe(0);
  });

  it('given Meta refuses the token (190), then 409 naming the token; given a Graph failure, then 502 with the reason', async () => {
    const tenant = await newTenant();
    graph.simulator.failNext(1, { httpStatus: 401, code: 190, operation: 'other' });
    const refused = await call('GET', '/tenant/templates', { key: tenant.key });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/Meta refused the WhatsApp access token.*whatsapp_access_token/);

    graph.simulator.failNext(1, { httpStatus: 500, code: 2, operation: 'other' });
    const failed = await call('GET', '/tenant/templates', { key: tenant.key });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ error: 'bad_gateway' });
    expect(failed.body.message).toMatch(new RegExp(`templates of WABA ${tenant.wabaId} could not be read`));
  });

  it("given the operator, then GET /clients/{id}/templates shows the client's templates", async () => {
    const tenant = await newTenant();
    const res = await asOperator('GET', `/clients/${tenant.id}/templates`);
    expect(res.status).toBe(200);
    expect(templatesResponseSchema.parse(res.body).templates).toHaveLength(2);
    expect((await asOperator('GET', '/clients/cl_nobody/templates')).status).toBe(404);
  });
});

describe('setting a window_template', () => {
  it('given a template not approved on the WABA, then PATCH /tenant is 400 naming it and nothing changes; an approved one is 200', async () => {
    const tenant = await newTenant();

    const pending = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { window_template: { name: 'oferta_semanal', language: 'es' } },
    });
    expect(pending.status).toBe(400);
    expect(pending.body.message).toBe(
      `window_template "oferta_semanal" (es) is not an approved template on WABA ${tenant.wabaId}`,
    );
    const wrongLanguage = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { window_template: { name: 'respuesta_pendiente', language: 'en' } },
    });
    expect(wrongLanguage.status).toBe(400);
    expect((await call('GET', '/tenant', { key: tenant.key })).body.window_template).toBeNull();

    const approved = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { window_template: { name: 'respuesta_pendiente', language: 'es' } },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.window_template).toEqual({ name: 'respuesta_pendiente', language: 'es' });
  });

  it('given the operator, then PATCH /clients/{id} is checked the same way', async () => {
    const tenant = await newTenant();
    const refused = await asOperator('PATCH', `/clients/${tenant.id}`, {
      body: { window_template: { name: 'no_existe', language: 'es' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/window_template "no_existe" \(es\) is not an approved template/);
    const approved = await asOperator('PATCH', `/clients/${tenant.id}`, {
      body: { window_template: { name: 'pending_reply', language: 'en' } },
    });
    expect(approved.status).toBe(200);
  });

  it('given no waba_id, then 400 saying it is needed; given both in one PATCH, then it is checked on that WABA', async () => {
    const tenant = await newTenant({ wabaId: '' });
    const refused = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { window_template: { name: 'respuesta_pendiente', language: 'es' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/window_template needs a waba_id/);

    const both = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { waba_id: '102299999999999', window_template: { name: 'respuesta_pendiente', language: 'es' } },
    });
    expect(both.status).toBe(200);
    expect(graph.simulator.graphCalls.at(-1)?.path).toBe('/v26.0/102299999999999/message_templates');
  });

  it('given the Graph API does not answer, then 502 with the reason and the template is not set', async () => {
    const tenant = await newTenant();
    graph.simulator.failNext(1, { httpStatus: 503, code: 2, operation: 'other' });
    const res = await call('PATCH', '/tenant', {
      key: tenant.key,
      body: { window_template: { name: 'respuesta_pendiente', language: 'es' } },
    });
    expect(res.status).toBe(502);
    expect(res.body.message).toMatch(/could not be read from the Graph API/);
    expect((await call('GET', '/tenant', { key: tenant.key })).body.window_template).toBeNull();
  });
});

describe('a client on the platform token', () => {
  /** A client without a token of its own: it sends (and reads) with the platform's. */
  async function onPlatformToken(wabaId: string) {
    const phoneNumberId = String(seq++);
    businesses.push({ phoneNumberId, name: `Negocio ${phoneNumberId}` });
    const created = await asOperator('POST', '/clients', {
      body: {
        name: `Negocio ${phoneNumberId}`,
        phone_number: '+34666777888',
        phone_number_id: phoneNumberId,
        faqs: laPlazaFaqs,
      },
    });
    expect(created.status).toBe(201);
    const key = await asOperator('POST', `/clients/${created.body.id}/api-keys`);
    // The tenant names the WABA itself.
    const named = await call('PATCH', '/tenant', { key: key.body.api_key, body: { waba_id: wabaId } });
    expect(named.status).toBe(200);
    return { key: key.body.api_key as string, phoneNumberId };
  }

  it('given the WABA of its own number, then its templates are listed', async () => {
    const phoneNumberId = String(seq);
    const own = await onPlatformToken(simulatedWabaIdOf(phoneNumberId));
    const res = await call('GET', '/tenant/templates', { key: own.key });
    expect(res.status).toBe(200);
  });

  it("given another business's WABA, then 409: the platform's token reads only the WABA of the client's own number", async () => {
    const other = String(seq + 500);
    businesses.push({ phoneNumberId: other, name: 'Otro negocio' });
    const intruder = await onPlatformToken(simulatedWabaIdOf(other));
    const res = await call('GET', '/tenant/templates', { key: intruder.key });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/does not hold this client's number/);
    expect(templateCalls()).toBe(0);
    const check = await call('PATCH', '/tenant', {
      key: intruder.key,
      body: { window_template: { name: 'respuesta_pendiente', language: 'es' } },
    });
    expect(check.status).toBe(409);
  });
});
