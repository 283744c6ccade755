import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATOR_APP } from '../../infra/local/simulator/graph-read-endpoints.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { APP_SECRET, PHONE_NUMBER_ID, TOKEN } from './simulator-helpers.ts';

/** The Graph stand-in's read endpoints (simulator/graph-read-endpoints.ts), over HTTP. */

const BUSINESS_NAME = 'Restaurante La Plaza';
const APP_ID = '1234567890';
const APP_TOKEN = `${APP_ID}|${APP_SECRET}`;
const WABA_ID = '102290129340398';
const PLATFORM_TOKEN = 'local-simulator-token';

/** Meta's exact answer to a token it cannot parse. */
const cannotParse = {
  error: {
    message: 'Invalid OAuth access token - Cannot parse access token',
    type: 'OAuthException',
    code: 190,
    fbtrace_id: expect.stringMatching(/^SIM/),
  },
};

let sim: StandaloneSimulator;
let listed = 0;

beforeAll(async () => {
  sim = await startStandaloneSimulator({
    appSecret: APP_SECRET,
    platformAccessToken: PLATFORM_TOKEN,
    listBusinesses: async () => {
      listed += 1;
      return [{ phoneNumberId: PHONE_NUMBER_ID, name: BUSINESS_NAME }];
    },
  });
});

afterEach(() => {
  sim.simulator.reset();
  listed = 0;
});

afterAll(async () => {
  await sim.stop();
});

const bearer = { authorization: `Bearer ${TOKEN}` };

async function get(path: string, headers: Record<string, string> = bearer) {
  const response = await fetch(`${sim.graphBaseUrl}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const debugToken = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  get(`/v26.0/debug_token?${new URLSearchParams(query)}`, headers);

describe('GET /{version}/{phone-number-id}', () => {
  it("answers a known business number's fields in Meta's shape", async () => {
    const { status, body } = await get(
      `/v26.0/${PHONE_NUMBER_ID}?fields=display_phone_number,verified_name,quality_rating,health_status`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      id: PHONE_NUMBER_ID,
      display_phone_number: '+1 555-555-7899',
      verified_name: BUSINESS_NAME,
      quality_rating: 'GREEN',
      health_status: {
        can_send_message: 'AVAILABLE',
        entities: [
          { entity_type: 'PHONE_NUMBER', id: PHONE_NUMBER_ID, can_send_message: 'AVAILABLE' },
          { entity_type: 'WABA', id: expect.stringMatching(/^\d{15}$/), can_send_message: 'AVAILABLE' },
          { entity_type: 'BUSINESS', id: expect.stringMatching(/^\d{15}$/), can_send_message: 'AVAILABLE' },
          { entity_type: 'APP', id: SIMULATOR_APP.id, can_send_message: 'AVAILABLE' },
        ],
      },
    });
    expect(sim.simulator.graphCalls).toMatchObject([
      { method: 'GET', operation: 'other', phoneNumberId: PHONE_NUMBER_ID, tokenSuffix: '1234', status: 200 },
    ]);
  });

  it('answers the default fields without `fields`, and reads nested field syntax', async () => {
    const plain = await get(`/v26.0/${PHONE_NUMBER_ID}`);
    expect(Object.keys(plain.body).sort()).toEqual(
      ['code_verification_status', 'display_phone_number', 'id', 'quality_rating', 'verified_name'].sort(),
    );
    const nested = await get(
      `/v26.0/${PHONE_NUMBER_ID}?fields=health_status{can_send_message},verified_name`,
    );
    expect(Object.keys(nested.body).sort()).toEqual(['health_status', 'id', 'verified_name']);
  });

  it('answers error 100 for a field the node does not have', async () => {
    const { status, body } = await get(`/v26.0/${PHONE_NUMBER_ID}?fields=verified_name,nope`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 100, type: 'OAuthException' });
    expect(body.error.message).toContain('nonexisting field (nope)');
  });

  it.each([
    ['no Authorization header', {}],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])("answers Meta's 190 (HTTP 401) for %s", async (_name, headers) => {
    const { status, body } = await get(`/v26.0/${PHONE_NUMBER_ID}?fields=verified_name`, headers);
    expect(status).toBe(401);
    expect(body).toEqual({
      error: {
        message: expect.any(String),
        type: 'OAuthException',
        code: 190,
        error_data: expect.any(Object),
        fbtrace_id: expect.stringMatching(/^SIM/),
      },
    });
  });

  it('answers error 100 (HTTP 400) for an id it does not know, and 190 first without a token', async () => {
    const { status, body } = await get('/v26.0/999999999999999?fields=verified_name');
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 100, error_subcode: 33 });
    expect((await get('/v26.0/999999999999999?fields=verified_name', {})).body.error.code).toBe(190);
  });

  it('answers a revoked token as a fault on `other` operations; send faults leave reads alone', async () => {
    sim.simulator.failNext(1, { httpStatus: 400, code: 131048 });
    expect((await get(`/v26.0/${PHONE_NUMBER_ID}`)).status).toBe(200);
    sim.simulator.reset();
    sim.simulator.failNext(1, { httpStatus: 401, code: 190, operation: 'other' });
    const revoked = await get(`/v26.0/${PHONE_NUMBER_ID}`);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toMatchObject({ code: 190, type: 'OAuthException' });
    expect((await get(`/v26.0/${PHONE_NUMBER_ID}`)).status).toBe(200);
  });

  it('leaves media ids to the media lookup without listing businesses', async () => {
    const id = sim.simulator.addMedia({ mimeType: 'image/png', data: Buffer.from('png') });
    const { status, body } = await get(`/v26.0/${id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id, mime_type: 'image/png' });
    expect(listed).toBe(0);
  });

  it('does not take other methods', async () => {
    const response = await fetch(`${sim.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}`, {
      method: 'POST',
      headers: bearer,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 2500 } });
  });

  it('knows no number when the simulator is given no businesses', async () => {
    const bare = await startStandaloneSimulator({ appSecret: APP_SECRET });
    try {
      const response = await fetch(`${bare.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}?fields=verified_name`, {
        headers: bearer,
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 100 } });
    } finally {
      await bare.stop();
    }
  });
});

describe('GET /{version}/debug_token', () => {
  it('answers a valid token that never expires, with the WhatsApp scopes', async () => {
    const { status, body } = await debugToken({ input_token: TOKEN, access_token: APP_TOKEN });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({
      app_id: APP_ID,
      type: 'SYSTEM_USER',
      is_valid: true,
      expires_at: 0,
      scopes: expect.arrayContaining(['whatsapp_business_messaging', 'whatsapp_business_management']),
    });
    expect(body.data).not.toHaveProperty('error');
    // The call records the inspected token's suffix, never the app secret's.
    expect(sim.simulator.graphCalls).toMatchObject([
      { operation: 'other', tokenSuffix: '1234', status: 200 },
    ]);
  });

  it('takes the app token as a bearer token too, and the unversioned path', async () => {
    const viaHeader = await debugToken({ input_token: TOKEN }, { authorization: `Bearer ${APP_TOKEN}` });
    expect(viaHeader.body.data).toMatchObject({ is_valid: true, app_id: APP_ID });
    const unversioned = await get(
      `/debug_token?${new URLSearchParams({ input_token: TOKEN, access_token: APP_TOKEN })}`,
    );
    expect(unversioned.body.data).toMatchObject({ is_valid: true });
  });

  it('refuses an app token with the wrong secret (190) and a call without an access token (104)', async () => {
    const wrong = await debugToken({ input_token: TOKEN, access_token: `${APP_ID}|not-the-secret` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 190, type: 'OAuthException' });
    const none = await debugToken({ input_token: TOKEN });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ code: 104 });
  });

  it('requires input_token (100)', async () => {
    const { status, body } = await debugToken({ access_token: APP_TOKEN });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 100 });
  });

  it('reports a revoked token (a 190 fault) in its data, as Meta does', async () => {
    sim.simulator.failNext(1, { httpStatus: 401, code: 190, subcode: 463, operation: 'other' });
    const { status, body } = await debugToken({ input_token: TOKEN, access_token: APP_TOKEN });
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ is_valid: false, error: { code: 190, subcode: 463 }, scopes: [] });
  });

  it('answers other faults as Graph errors', async () => {
    sim.simulator.failNext(1, { httpStatus: 500, code: 1, operation: 'other' });
    const { status, body } = await debugToken({ input_token: TOKEN, access_token: APP_TOKEN });
    expect(status).toBe(500);
    expect(body.error).toMatchObject({ code: 1 });
  });
});

describe('GET /{version}/{waba-id}/subscribed_apps', () => {
  it("answers the simulator's app as subscribed", async () => {
    const { status, body } = await get(`/v26.0/${WABA_ID}/subscribed_apps`);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: [
        {
          whatsapp_business_api_data: {
            id: SIMULATOR_APP.id,
            name: SIMULATOR_APP.name,
            link: expect.stringContaining(SIMULATOR_APP.id),
          },
        },
      ],
    });
  });

  it('answers error 100 for a phone number id or a non-numeric id, and 190 without a token', async () => {
    const onNumber = await get(`/v26.0/${PHONE_NUMBER_ID}/subscribed_apps`);
    expect(onNumber.status).toBe(400);
    expect(onNumber.body.error).toMatchObject({ code: 100 });
    expect(onNumber.body.error.message).toContain('WhatsAppBusinessPhoneNumber');
    expect((await get('/v26.0/not-a-waba/subscribed_apps')).body.error).toMatchObject({ code: 100 });
    const anonymous = await get(`/v26.0/${WABA_ID}/subscribed_apps`, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ code: 190 });
  });
});

describe('the tokens the reads take', () => {
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const reads = [
    ['the number', `/v26.0/${PHONE_NUMBER_ID}?fields=verified_name`],
    ['subscribed_apps', `/v26.0/${WABA_ID}/subscribed_apps`],
  ] as const;

  it.each(reads)('%s: takes a Meta-shaped token and the platform token', async (_name, path) => {
    for (const token of [TOKEN, `EAA${'x1'.repeat(9)}`, PLATFORM_TOKEN]) {
      expect((await get(path, as(token))).status, token).toBe(200);
    }
  });

  it.each(reads)("%s: answers another token with Meta's exact 190 (HTTP 401)", async (_name, path) => {
    for (const token of ['wrong-token', 'EAAshort123', `EAA${'x'.repeat(20)}-`, `${PLATFORM_TOKEN}x`]) {
      const { status, body } = await get(path, as(token));
      expect(status, token).toBe(401);
      expect(body, token).toEqual(cannotParse);
    }
    expect(sim.simulator.graphCalls.at(-1)).toMatchObject({ operation: 'other', status: 401 });
  });

  it('refuses a wrong token before a pending fault, which stays for the next read', async () => {
    sim.simulator.failNext(1, { httpStatus: 500, code: 1, operation: 'other' });
    expect((await get(`/v26.0/${PHONE_NUMBER_ID}`, as('wrong-token'))).body).toEqual(cannotParse);
    expect((await get(`/v26.0/${PHONE_NUMBER_ID}`)).status).toBe(500);
  });

  it('takes only Meta-shaped tokens when the simulator is given no platform token', async () => {
    const bare = await startStandaloneSimulator({
      appSecret: APP_SECRET,
      listBusinesses: async () => [{ phoneNumberId: PHONE_NUMBER_ID, name: BUSINESS_NAME }],
    });
    try {
      const read = (token: string) =>
        fetch(`${bare.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}`, { headers: as(token) });
      expect((await read(TOKEN)).status).toBe(200);
      expect(await (await read(PLATFORM_TOKEN)).json()).toEqual(cannotParse);
    } finally {
      await bare.stop();
    }
  });

  it('debug_token: a Meta-shaped or the platform input token is valid', async () => {
    for (const token of [TOKEN, PLATFORM_TOKEN]) {
      const { status, body } = await debugToken({ input_token: token, access_token: APP_TOKEN });
      expect(status, token).toBe(200);
      expect(body.data, token).toMatchObject({ is_valid: true });
    }
  });

  it("debug_token: reports another input token in its data with Meta's 190, with HTTP 200", async () => {
    const { status, body } = await debugToken({ input_token: 'wrong-token', access_token: APP_TOKEN });
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' },
        is_valid: false,
        scopes: [],
      },
    });
    expect(JSON.stringify(body)).not.toContain('wrong-token');
    expect(sim.simulator.graphCalls).toMatchObject([
      { operation: 'other', tokenSuffix: 'oken', status: 200 },
    ]);
  });

  it('debug_token: refuses an access token that is neither an app token nor one the reads take', async () => {
    const { status, body } = await debugToken({ input_token: TOKEN, access_token: 'wrong-token' });
    expect(status).toBe(401);
    expect(body).toEqual(cannotParse);
    const viaPlatform = await debugToken({ input_token: TOKEN }, as(PLATFORM_TOKEN));
    expect(viaPlatform.body.data).toMatchObject({ is_valid: true, app_id: SIMULATOR_APP.id });
  });

  it('leaves the send endpoints taking any bearer token', async () => {
    const response = await fetch(`${sim.graphBaseUrl}/v26.0/${PHONE_NUMBER_ID}/messages`, {
      method: 'POST',
      headers: { ...as('wrong-token'), 'content-type': 'application/json' },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: '34600111222',
        type: 'text',
        text: { body: 'Hola' },
      }),
    });
    expect(response.status).toBe(200);
    expect(sim.simulator.sent).toMatchObject([{ text: 'Hola', tokenSuffix: 'oken' }]);
  });
});
