import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { logger } from '../../lib/logger.ts';
import {
  type ConnectionCheckDeps,
  type ConnectionCheckInput,
  type ConnectionCheckResult,
  describeGraphError,
  runConnectionChecks,
} from '../../lib/whatsapp/connection-checks.ts';
import { APP_SECRET, PHONE_NUMBER_ID, TOKEN } from './simulator-helpers.ts';

/**
 * runConnectionChecks against the real simulator (its Graph read endpoints), a stub OpenAI that
 * answers `GET /v1/models`, small stub Graph servers for what the simulator does not play (a BLOCKED
 * number, a token without scopes), and a server that never answers.
 */

const APP_ID = '1234567890';
const WABA_ID = '102290129340398';
const OPENAI_KEY = 'sk-tenant-openai-key-5678';
const EXPIRED = { httpStatus: 401, code: 190, subcode: 463, operation: 'other' } as const;

interface Stub {
  url: string;
  requests: Array<{ url: string; authorization: string | undefined }>;
  stop(): Promise<void>;
}

/** A loopback server answering with `handler`, recording each request. */
async function startStub(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

let sim: StandaloneSimulator;
let openai: Stub;
let hanging: Stub;

beforeAll(async () => {
  sim = await startStandaloneSimulator({
    appSecret: APP_SECRET,
    listBusinesses: async () => [{ phoneNumberId: PHONE_NUMBER_ID, name: 'Restaurante La Plaza' }],
  });
  openai = await startStub((req, res) => {
    if (req.url !== '/v1/models') return json(res, 404, { error: { message: 'not found' } });
    if (req.headers.authorization !== `Bearer ${OPENAI_KEY}`) {
      // OpenAI's 401 quotes part of the key: the check must not pass it on.
      return json(res, 401, {
        error: {
          message: `Incorrect API key provided: ${req.headers.authorization}`,
          code: 'invalid_api_key',
        },
      });
    }
    json(res, 200, { object: 'list', data: [{ id: 'gpt-5-mini', object: 'model' }] });
  });
  hanging = await startStub(() => {
    // Never answers.
  });
});

afterEach(() => {
  sim.simulator.reset();
  openai.requests.length = 0;
  vi.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all([sim.stop(), openai.stop(), hanging.stop()]);
});

const fullInput: ConnectionCheckInput = {
  phoneNumberId: PHONE_NUMBER_ID,
  accessToken: TOKEN,
  wabaId: WABA_ID,
  openaiApiKey: OPENAI_KEY,
  metaAppId: APP_ID,
  appSecret: APP_SECRET,
};

const deps = (overrides: Partial<ConnectionCheckDeps> = {}): ConnectionCheckDeps => ({
  graphBaseUrl: sim.graphBaseUrl,
  graphVersion: 'v26.0',
  openaiBaseUrl: `${openai.url}/v1`,
  timeoutMs: 2000,
  ...overrides,
});

const byName = (result: ConnectionCheckResult) => Object.fromEntries(result.checks.map((c) => [c.name, c]));

describe('runConnectionChecks', () => {
  it('passes every check against the local stand-ins', async () => {
    const result = await runConnectionChecks(fullInput, deps());
    expect(result).toEqual({
      ok: true,
      checks: [
        { name: 'token', ok: true, detail: 'valid, never expires' },
        {
          name: 'phone_number',
          ok: true,
          detail: '+1 555-555-7899 (Restaurante La Plaza), quality GREEN, can send messages (AVAILABLE)',
        },
        { name: 'webhook_subscription', ok: true, detail: '1 app subscribed: WhatsApp simulator' },
        { name: 'openai_key', ok: true, detail: 'accepted' },
      ],
    });
    expect(sim.simulator.graphCalls.map((call) => call.path).sort()).toEqual(
      ['/v26.0/debug_token', `/v26.0/${PHONE_NUMBER_ID}`, `/v26.0/${WABA_ID}/subscribed_apps`].sort(),
    );
    expect(openai.requests).toEqual([{ url: '/v1/models', authorization: `Bearer ${OPENAI_KEY}` }]);
  });

  it('runs only the checks its input allows', async () => {
    const result = await runConnectionChecks({ phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN }, deps());
    expect(result.checks.map((check) => check.name)).toEqual(['phone_number']);
    expect(result.ok).toBe(true);
    // An app id without its secret (or the reverse) cannot call debug_token.
    const half = await runConnectionChecks({ ...fullInput, appSecret: undefined }, deps());
    expect(half.checks.map((check) => check.name)).not.toContain('token');
  });

  it('says a revoked token is expired or revoked, on the token and phone number checks alike', async () => {
    // Every Graph read of this run (debug_token, the number, subscribed_apps) sees the token revoked.
    sim.simulator.failNext(3, EXPIRED);
    const result = await runConnectionChecks(fullInput, deps());
    const checks = byName(result);
    expect(result.ok).toBe(false);
    expect(checks.token).toEqual({
      name: 'token',
      ok: false,
      detail: 'the access token is expired or revoked',
    });
    expect(checks.phone_number).toEqual({
      name: 'phone_number',
      ok: false,
      detail: 'the access token is expired or revoked',
    });
    expect(checks.webhook_subscription?.detail).toBe('the access token is expired or revoked');
    expect(checks.openai_key?.ok).toBe(true);
  });

  it("says when the platform's app secret is refused, without failing the other checks", async () => {
    const result = await runConnectionChecks({ ...fullInput, appSecret: 'not-the-app-secret' }, deps());
    const checks = byName(result);
    expect(checks.token).toMatchObject({ ok: false, detail: expect.stringContaining('app id and secret') });
    expect(checks.phone_number?.ok).toBe(true);
    expect(checks.webhook_subscription?.ok).toBe(true);
  });

  it('says an unknown id is wrong or not visible (error 100)', async () => {
    const result = await runConnectionChecks(
      { ...fullInput, phoneNumberId: '999999999999999', wabaId: PHONE_NUMBER_ID },
      deps(),
    );
    const checks = byName(result);
    expect(result.ok).toBe(false);
    expect(checks.phone_number).toMatchObject({
      ok: false,
      detail: 'the id is wrong or not visible to this token',
    });
    // A phone number id given as the WABA id is error 100 too.
    expect(checks.webhook_subscription).toMatchObject({
      ok: false,
      detail: 'the id is wrong or not visible to this token',
    });
    expect(checks.token?.ok).toBe(true);
  });

  it('names a missing permission (200, 10) and other Graph codes by number', async () => {
    sim.simulator.failNext(1, {
      httpStatus: 403,
      code: 200,
      phoneNumberId: PHONE_NUMBER_ID,
      operation: 'other',
    });
    const result = await runConnectionChecks({ phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN }, deps());
    expect(result.checks[0]).toEqual({
      name: 'phone_number',
      ok: false,
      detail: 'the token lacks a permission (needs whatsapp_business_management)',
    });
    expect(describeGraphError(10, 403)).toBe('the token lacks a permission');
    expect(describeGraphError(131000, 500)).toBe('Graph API error 131000');
    expect(describeGraphError(undefined, 502)).toBe('the Graph API answered HTTP 502');
  });

  it('refuses ids that are not digits without calling Graph, and an empty token', async () => {
    const result = await runConnectionChecks(
      { phoneNumberId: '../me', accessToken: TOKEN, wabaId: 'x/y' },
      deps(),
    );
    expect(result.checks.map((check) => check.ok)).toEqual([false, false]);
    expect(result.checks[0]?.detail).toContain('digits only');
    const empty = await runConnectionChecks({ phoneNumberId: PHONE_NUMBER_ID, accessToken: '' }, deps());
    expect(empty.checks[0]).toMatchObject({ ok: false, detail: 'no access token given' });
    expect(sim.simulator.graphCalls).toHaveLength(0);
  });

  it('says the OpenAI key is refused (401)', async () => {
    const result = await runConnectionChecks(
      { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN, openaiApiKey: 'sk-wrong-key-0000' },
      deps(),
    );
    expect(byName(result).openai_key).toEqual({
      name: 'openai_key',
      ok: false,
      detail: 'refused (401): the key is wrong or revoked',
    });
    expect(result.ok).toBe(false);
  });
});

describe('runConnectionChecks against numbers the simulator does not play', () => {
  async function withGraph(
    body: { phone?: unknown; debug?: unknown; apps?: unknown },
    run: (graphBaseUrl: string) => Promise<void>,
  ) {
    const graph = await startStub((req, res) => {
      const path = new URL(req.url ?? '/', 'http://stub').pathname;
      if (path === '/v26.0/debug_token') return json(res, 200, body.debug);
      if (path.endsWith('/subscribed_apps')) return json(res, 200, body.apps);
      json(res, 200, body.phone);
    });
    try {
      await run(graph.url);
    } finally {
      await graph.stop();
    }
  }

  const number = (canSend: string, errors: unknown[] = []) => ({
    id: PHONE_NUMBER_ID,
    display_phone_number: '+34 600 11 22 33',
    verified_name: 'Bar Pepe',
    quality_rating: canSend === 'BLOCKED' ? 'RED' : 'YELLOW',
    health_status: {
      can_send_message: canSend,
      entities: [
        { entity_type: 'PHONE_NUMBER', id: PHONE_NUMBER_ID, can_send_message: 'AVAILABLE' },
        { entity_type: 'WABA', id: WABA_ID, can_send_message: canSend, errors },
      ],
    },
  });

  it('fails a BLOCKED number, with the reason Meta gives', async () => {
    const errors = [
      { error_code: 141010, error_description: 'The Business has not passed business verification' },
    ];
    await withGraph({ phone: number('BLOCKED', errors) }, async (graphBaseUrl) => {
      const result = await runConnectionChecks(
        { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN },
        deps({ graphBaseUrl }),
      );
      expect(result).toEqual({
        ok: false,
        checks: [
          {
            name: 'phone_number',
            ok: false,
            detail:
              '+34 600 11 22 33 (Bar Pepe), quality RED, cannot send messages (BLOCKED: waba: The Business has not passed business verification)',
          },
        ],
      });
    });
  });

  it('passes a LIMITED number with a warning', async () => {
    await withGraph({ phone: number('LIMITED') }, async (graphBaseUrl) => {
      const result = await runConnectionChecks(
        { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN },
        deps({ graphBaseUrl }),
      );
      expect(result.ok).toBe(true);
      expect(result.checks[0]?.detail).toBe(
        '+34 600 11 22 33 (Bar Pepe), quality YELLOW, warning: sending is LIMITED',
      );
    });
  });

  it('fails a valid token without whatsapp_business_messaging, and gives its expiry', async () => {
    const debug = {
      data: {
        is_valid: true,
        expires_at: Date.UTC(2027, 0, 31, 12, 30) / 1000,
        scopes: ['whatsapp_business_management'],
      },
    };
    await withGraph({ phone: number('AVAILABLE'), debug, apps: { data: [] } }, async (graphBaseUrl) => {
      const result = await runConnectionChecks(
        { ...fullInput, openaiApiKey: undefined },
        deps({ graphBaseUrl }),
      );
      const checks = byName(result);
      expect(checks.token).toEqual({
        name: 'token',
        ok: false,
        detail:
          'valid, expires 2027-01-31 12:30 UTC, but it lacks the whatsapp_business_messaging permission',
      });
      expect(checks.webhook_subscription).toMatchObject({
        ok: false,
        detail: expect.stringContaining('webhooks will not arrive'),
      });
    });
  });

  it('never passes on a secret Graph echoes back', async () => {
    const echo = { ...number('AVAILABLE'), verified_name: `Bar ${TOKEN}` };
    await withGraph({ phone: echo }, async (graphBaseUrl) => {
      const result = await runConnectionChecks(
        { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN },
        deps({ graphBaseUrl }),
      );
      expect(result.checks[0]?.detail).toContain('Bar [redacted]');
      expect(JSON.stringify(result)).not.toContain(TOKEN);
    });
  });
});

describe('runConnectionChecks when a service does not answer', () => {
  it('times out the OpenAI check alone', async () => {
    const result = await runConnectionChecks(
      fullInput,
      deps({ openaiBaseUrl: `${hanging.url}/v1`, openaiTimeoutMs: 200 }),
    );
    const checks = byName(result);
    expect(checks.openai_key).toEqual({
      name: 'openai_key',
      ok: false,
      detail: 'no answer from OpenAI within 200 ms',
    });
    expect([checks.token?.ok, checks.phone_number?.ok, checks.webhook_subscription?.ok]).toEqual([
      true,
      true,
      true,
    ]);
    expect(result.ok).toBe(false);
  });

  it('times out the Graph checks in parallel while the OpenAI check still answers', async () => {
    // Counts the requests open at once: the checks run side by side, each under its own timeout.
    let open = 0;
    let mostOpen = 0;
    const counting = (async (...args: Parameters<typeof fetch>) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      try {
        return await fetch(...args);
      } finally {
        open--;
      }
    }) as typeof fetch;
    const result = await runConnectionChecks(
      fullInput,
      deps({ graphBaseUrl: hanging.url, timeoutMs: 300, fetch: counting }),
    );
    const checks = byName(result);
    for (const name of ['token', 'phone_number', 'webhook_subscription']) {
      expect(checks[name]).toEqual({ name, ok: false, detail: 'no answer from the Graph API within 300 ms' });
    }
    expect(checks.openai_key?.ok).toBe(true);
    expect(mostOpen).toBeGreaterThanOrEqual(3);
  });

  it('still answers when an injected fetch ignores the abort signal', async () => {
    const neverSettles = (() => new Promise<Response>(() => {})) as typeof fetch;
    const result = await runConnectionChecks(
      { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN },
      deps({ fetch: neverSettles, timeoutMs: 100 }),
    );
    expect(result.checks[0]).toMatchObject({
      ok: false,
      detail: 'no answer from the Graph API within 100 ms',
    });
  });

  it('says when Graph cannot be reached', async () => {
    const closed = await startStub(() => {});
    await closed.stop();
    const result = await runConnectionChecks(
      { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN },
      deps({ graphBaseUrl: closed.url }),
    );
    expect(result.checks[0]).toMatchObject({
      ok: false,
      detail: 'could not reach the Graph API (ECONNREFUSED)',
    });
  });
});

describe('runConnectionChecks and secrets', () => {
  it('never puts the token, app secret or OpenAI key in its result or its logs', async () => {
    const logged: unknown[] = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push(args);
      });
    }
    const secrets = [TOKEN, APP_SECRET, OPENAI_KEY];
    const runs: ConnectionCheckResult[] = [];
    runs.push(await runConnectionChecks(fullInput, deps()));
    sim.simulator.failNext(3, EXPIRED);
    runs.push(await runConnectionChecks(fullInput, deps()));
    runs.push(
      await runConnectionChecks(
        { ...fullInput, openaiApiKey: 'sk-refused-key-9999', phoneNumberId: '999999999999999' },
        deps(),
      ),
    );
    runs.push(await runConnectionChecks(fullInput, deps({ graphBaseUrl: hanging.url, timeoutMs: 100 })));
    expect(runs[0]?.ok).toBe(true);
    expect(logged.length).toBeGreaterThan(0);
    const text = JSON.stringify({ runs, logged });
    for (const secret of [...secrets, 'sk-refused-key-9999']) expect(text).not.toContain(secret);
    // Not even the parts of the key OpenAI's own 401 message quotes.
    expect(text).not.toContain('Incorrect API key');
  });
});
