import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoClient } from '../../infra/local/demo-tenant.ts';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.ts';
import { uniqueName } from '../support/emulators.ts';

/**
 * The local stack's HTTP server on a shared machine (issue 7): it answers only loopback Host names
 * (no DNS rebinding), its chat simulator signs webhooks only for a caller holding the per-run token,
 * and it guards itself like API Gateway does: credentials checked before a body is read, bodies up
 * to 10 MB, a cap on requests in flight and a time limit.
 */

const TIMEOUT_MS = 1000;
const MAX_IN_FLIGHT = 3;
const MB = 1024 * 1024;
let stack: LocalStack;
let dataDir: string;
let port: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-guards-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    namePrefix: uniqueName('guards'),
    withSes: false,
    seedDemo: true,
    retryDelaySeconds: 1,
    limits: { maxInFlight: MAX_IN_FLIGHT, timeoutMs: TIMEOUT_MS },
    env: { OPERATOR_API_KEY: 'guards-operator-key', LOCAL_ALLOWED_HOSTS: 'tunnel.example' },
  });
  port = Number(new URL(stack.url).port);
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds from sending the headers to the response's headers. */
  afterMs: number;
}

/**
 * A request over node:http (fetch cannot set Host, nor hold a body half sent). The response resolves
 * even when the server closes the connection while the body is still being written.
 */
function openRequest(options: { method?: string; path: string; headers?: Record<string, string | number> }) {
  const started = Date.now();
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: options.method ?? 'GET',
    path: options.path,
    headers: options.headers,
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const afterMs = Date.now() - started;
      req.removeListener('error', reject);
      req.on('error', () => undefined);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, afterMs });
      res.once('end', done);
      res.once('close', done);
      res.once('error', done);
    });
  });
  req.flushHeaders();
  return { req, response };
}

async function send(options: {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: string;
}): Promise<RawResponse> {
  const { req, response } = openRequest(options);
  req.end(options.body);
  return response;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = { phone_number_id: demoClient.phone_number_id, from: '34600111222', text: 'hola' };

async function pageToken(): Promise<string> {
  const page = await send({ path: '/simulator' });
  expect(page.status).toBe(200);
  const token = /<meta name="simulator-token" content="([^"]+)">/.exec(page.body)?.[1];
  expect(token).toBeTruthy();
  return token!;
}

describe('the Host allowlist (DNS rebinding)', () => {
  it('refuses a rebinding pair on the signing API and on the tenant list, and delivers nothing', async () => {
    // Given a page on evil.example whose name now resolves to 127.0.0.1: Host and Origin agree
    const rebinding = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    const signed = await send({
      method: 'POST',
      path: '/simulator/api/messages',
      headers: { ...rebinding, 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    const tenants = await send({ path: '/simulator/api/businesses', headers: rebinding });
    const admin = await send({
      path: '/clients',
      headers: { ...rebinding, authorization: 'Bearer guards-operator-key' },
    });
    expect([signed.status, tenants.status, admin.status]).toEqual([403, 403, 403]);
    expect(JSON.parse(tenants.body)).toMatchObject({ error: 'host_not_allowed' });
    expect(tenants.body).not.toContain('Restaurante');
    expect(stack.simulator?.inbound).toEqual([]);
  });

  it('answers the loopback names with the port, and a host named in LOCAL_ALLOWED_HOSTS', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'tunnel.example']) {
      expect((await send({ path: '/health', headers: { host } })).status, host).toBe(200);
    }
    expect((await send({ path: '/health', headers: { host: 'localhost:1' } })).status).toBe(403);
  });

  it('serves the simulator to loopback names only, not to a tunnel name nor through a proxy', async () => {
    expect((await send({ path: '/simulator', headers: { host: 'tunnel.example' } })).status).toBe(404);
    const proxied = { host: `127.0.0.1:${port}`, 'x-forwarded-for': '203.0.113.7' };
    expect((await send({ path: '/simulator', headers: proxied })).status).toBe(404);
    expect((await send({ path: '/simulator', headers: { host: `localhost:${port}` } })).status).toBe(200);
  });
});

describe('the per-run simulator token', () => {
  it('is required by the signing API: a request without it (curl) is refused and nothing is delivered', async () => {
    const curl = await send({
      method: 'POST',
      path: '/simulator/api/messages',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    const wrong = await send({
      method: 'POST',
      path: '/simulator/api/messages',
      headers: { 'content-type': 'application/json', 'x-simulator-token': 'guessed' },
      body: JSON.stringify(message),
    });
    const tenants = await send({ path: '/simulator/api/businesses' });
    expect([curl.status, wrong.status, tenants.status]).toEqual([401, 401, 401]);
    expect(stack.simulator?.inbound).toEqual([]);
  });

  it('is embedded in the chat page (no inline script needed) and opens the API', async () => {
    const token = await pageToken();
    const tenants = await send({
      path: '/simulator/api/businesses',
      headers: { 'x-simulator-token': token },
    });
    expect(tenants.status).toBe(200);
    expect(JSON.parse(tenants.body).businesses).toContainEqual({
      phone_number_id: demoClient.phone_number_id,
      name: demoClient.name,
    });
  });

  it('is written to DATA_DIR readable by its owner only, and `npm run simulate` uses it to get a reply', async () => {
    const token = await pageToken();
    const file = join(dataDir, 'simulator-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'infra/local/simulate.ts', '¿Tenéis menú del día?', '--url', stack.url],
      { env: { ...process.env, DATA_DIR: dataDir }, timeout: 25_000 },
    );
    expect(stdout).toContain('12€');
  });
});

describe('request limits like API Gateway', () => {
  it('answers 401 to a request without Authorization before reading its large body', async () => {
    // Given an upload that announces 8 MB and sends 64 KB of it
    for (const path of ['/clients', '/webhook']) {
      const { req, response } = openRequest({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-length': 8 * MB },
      });
      req.write(Buffer.alloc(64 * 1024, 0x20));
      // Then the answer comes while most of the body is still unsent
      const answer = await response;
      // (before the time limit: with most of the body unsent, only the early refusal can answer 401)
      expect(answer.status, path).toBe(401);
      req.destroy();
    }
  });

  it('answers 413 to a body over 10 MB, announced or streamed', async () => {
    const auth = { authorization: 'Bearer guards-operator-key', 'content-type': 'application/json' };
    const announced = openRequest({
      method: 'POST',
      path: '/clients',
      headers: { ...auth, 'content-length': 11 * MB },
    });
    expect((await announced.response).status).toBe(413);
    announced.req.destroy();

    const streamed = openRequest({ method: 'POST', path: '/clients', headers: auth });
    const chunk = Buffer.alloc(MB, 0x20);
    for (let i = 0; i < 11 && !streamed.req.destroyed; i++) streamed.req.write(chunk);
    streamed.req.end();
    const answer = await streamed.response;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'payload_too_large' });
  });

  it(`refuses requests beyond ${MAX_IN_FLIGHT} in flight, and serves again once they are done`, async () => {
    // Given slow uploads holding every slot
    const held = Array.from({ length: MAX_IN_FLIGHT }, () => {
      const open = openRequest({
        method: 'POST',
        path: '/clients',
        headers: { authorization: 'Bearer guards-operator-key', 'content-length': 100 },
      });
      open.req.write('{');
      return open;
    });
    // When one more request comes, it is refused with a reason
    let refused: RawResponse | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const answer = await send({ path: '/health' });
      if (answer.status === 429) refused = answer;
      else await sleep(20);
    }
    expect(refused?.status).toBe(429);
    expect(JSON.parse(refused!.body)).toMatchObject({ error: 'too_many_requests' });
    // Then the held ones are cut at the time limit and the server answers again
    const cut = await Promise.all(held.map((open) => open.response));
    expect(cut.map((answer) => answer.status)).toEqual(Array(MAX_IN_FLIGHT).fill(408));
    expect((await send({ path: '/health' })).status).toBe(200);
  });

  it('cuts a slow client at the time limit (408)', async () => {
    const { req, response } = openRequest({
      method: 'POST',
      path: '/clients',
      headers: { authorization: 'Bearer guards-operator-key', 'content-length': 1000 },
    });
    req.write('{"name":');
    const answer = await response;
    expect(answer.status).toBe(408);
    // Not before the limit (a busy machine may answer later, so no upper bound is asserted).
    expect(answer.afterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'request_timeout' });
  });
});
