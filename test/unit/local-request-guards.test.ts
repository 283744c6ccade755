import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHostAllowlist, isLoopbackUrl } from '../../infra/local/host-allowlist.ts';
import {
  createInFlightGate,
  credentialsRefusal,
  Refusal,
  readLimitedBody,
  refuse,
  startDeadline,
} from '../../infra/local/request-guards.ts';

/** The local HTTP server's guards, one by one (the local stack's use of them: test/e2e/local-http-guards). */

describe('the Host allowlist', () => {
  const hosts = createHostAllowlist(3000, ' tunnel.example , api.example:8443,, [::1] ');

  it.each(['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST:3000', '[::1]:3000'])('answers %s', (host) => {
    expect(hosts.isLoopback(host)).toBe(true);
    expect(hosts.allows(host)).toBe(true);
  });

  it.each([
    ['a rebinding name', 'evil.example:3000'],
    ['a loopback name with another port', 'localhost:3001'],
    ['a loopback name without the port', 'localhost'],
    ['a loopback-looking subdomain', 'localhost.evil.example:3000'],
    ['no Host', undefined],
    ['a malformed Host', '127.0.0.1:3000/x'],
    ['user info', 'a@127.0.0.1:3000'],
  ])('refuses %s', (_name, host) => {
    expect(hosts.allows(host)).toBe(false);
  });

  it('adds configured names, with any port or with the one given, but not as loopback', () => {
    expect(hosts.allows('tunnel.example')).toBe(true);
    expect(hosts.allows('tunnel.example:443')).toBe(true);
    expect(hosts.isLoopback('tunnel.example')).toBe(false);
    expect(hosts.allows('api.example:8443')).toBe(true);
    expect(hosts.allows('api.example')).toBe(false);
  });

  it('tells local Graph URLs from real ones', () => {
    for (const url of [
      'http://127.0.0.1:3000/graph',
      'http://localhost:9/graph',
      'http://[::1]:1',
      'http://a.localhost',
    ]) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of [
      'https://graph.facebook.com',
      'http://127.0.0.1.evil.example',
      'not a url',
      'http://10.0.0.1',
    ]) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
  });
});

describe('the credential pre-check (shape only; the handler checks the key)', () => {
  const request = (method: string, headers: Record<string, string>) =>
    ({ method, headers }) as IncomingMessage;

  it('refuses a missing or malformed bearer key on operator routes', () => {
    expect(credentialsRefusal('operator-key', request('GET', {}))?.status).toBe(401);
    expect(credentialsRefusal('operator-key', request('GET', { authorization: 'Basic eA==' }))?.status).toBe(
      401,
    );
    expect(credentialsRefusal('operator-key', request('GET', { authorization: 'Bearer  ' }))?.status).toBe(
      401,
    );
    expect(
      credentialsRefusal('operator-key', request('GET', { authorization: 'bearer  k' })),
    ).toBeUndefined();
  });

  it('refuses an unsigned webhook delivery, not Meta\u2019s verification GET nor open routes', () => {
    expect(credentialsRefusal('meta-signature', request('POST', {}))?.status).toBe(401);
    expect(
      credentialsRefusal('meta-signature', request('POST', { 'x-hub-signature-256': 'x' })),
    ).toBeUndefined();
    expect(credentialsRefusal('meta-signature', request('GET', {}))).toBeUndefined();
    expect(credentialsRefusal('none', request('POST', {}))).toBeUndefined();
  });
});

describe('limits on a server', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function serve(
    handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>,
  ) {
    server = createServer((req, res) => {
      handler(req, res).catch((error: unknown) => {
        if (error instanceof Refusal) refuse(res, error);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  }

  it('answers 504 when the handler is slower than the time limit, and drops its late answer', async () => {
    // The handler finishes only after the client has its answer: that answer must be the deadline's.
    let release: () => void = () => undefined;
    let reportLate: (headersSent: boolean) => void = () => undefined;
    const late = new Promise<boolean>((resolve) => {
      reportLate = resolve;
    });
    const url = await serve(async (req, res) => {
      startDeadline(req, res, 100);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      reportLate(res.headersSent);
    });
    const response = await fetch(url);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: 'gateway_timeout' });
    release();
    // Its late answer is dropped: the response had been sent already.
    expect(await late).toBe(true);
  });

  it('counts requests until their responses close', async () => {
    const gate = createInFlightGate(1);
    let release: () => void = () => undefined;
    const url = await serve(async (_req, res) => {
      const refusal = gate.enter(res);
      if (refusal) return refuse(res, refusal);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      res.end('done');
    });
    const first = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await fetch(url);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect(await (await first).text()).toBe('done');
    release = () => undefined;
    const third = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect((await third).status).toBe(200);
  });

  it('reads a body up to the limit and refuses one byte more', async () => {
    const url = await serve(async (req, res) => {
      res.end(String((await readLimitedBody(req, 10)).length));
    });
    expect(await (await fetch(url, { method: 'POST', body: 'x'.repeat(10) })).text()).toBe('10');
    const over = await fetch(url, { method: 'POST', body: 'x'.repeat(11) });
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ error: 'payload_too_large' });
  });
});
