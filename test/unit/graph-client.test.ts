import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import { SendFailure } from '../../lib/conversation/ports.ts';
import {
  classifyGraphError,
  createGraphClient,
  GraphApiError,
  kindOfGraphCode,
} from '../../lib/whatsapp/graph-client.ts';

const PHONE_NUMBER_ID = '631261586727899';
const TOKEN = 'EAAGtestTOKENsecretvalueXYZ9';
const WA_ID = '34600111222';
const USER_ID = 'ES.1349120865530274';

let graph: StandaloneSimulator;

beforeAll(async () => {
  graph = await startStandaloneSimulator({ port: 0, appSecret: 'unused' });
});
afterEach(() => graph.simulator.reset());
afterAll(() => graph.stop());

function client(overrides: Parameters<typeof createGraphClient>[0] = {}) {
  return createGraphClient({
    baseUrl: graph.graphBaseUrl,
    version: 'v26.0',
    backoffMs: 1,
    timeoutMs: 2000,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<GraphApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphApiError);
  return error as GraphApiError;
}

const send = (overrides: Partial<Parameters<ReturnType<typeof createGraphClient>['sendText']>[0]> = {}) =>
  client().sendText({
    phoneNumberId: PHONE_NUMBER_ID,
    accessToken: TOKEN,
    to: { wa_id: WA_ID },
    text: 'Hola',
    ...overrides,
  });

describe('sendText', () => {
  it('posts a text to /{version}/{phone_number_id}/messages with the bearer token and returns the wamid', async () => {
    const { messageId } = await send({ text: 'Abrimos a las 9.' });
    const [message] = graph.simulator.sent;
    expect(message).toMatchObject({
      id: messageId,
      phoneNumberId: PHONE_NUMBER_ID,
      to: WA_ID,
      text: 'Abrimos a las 9.',
    });
    expect(message?.recipient).toBeUndefined();
    expect(message?.context).toBeUndefined();
    expect(message?.tokenSuffix).toBe(TOKEN.slice(-4));
    expect(messageId).toMatch(/^wamid\./);
    expect(graph.simulator.graphCalls).toMatchObject([
      { method: 'POST', path: `/v26.0/${PHONE_NUMBER_ID}/messages`, operation: 'send', status: 200 },
    ]);
  });

  it('addresses a business-scoped user id with `recipient` (and no `to`) when the user id is known', async () => {
    await send({ to: { user_id: USER_ID, wa_id: WA_ID } });
    const [message] = graph.simulator.sent;
    expect(message?.recipient).toBe(USER_ID);
    expect(message?.to).toBeUndefined();
  });

  it('addresses a username-only customer by user id', async () => {
    await send({ to: { user_id: USER_ID } });
    expect(graph.simulator.sent[0]?.recipient).toBe(USER_ID);
  });

  it('replies in context when replyTo is set', async () => {
    await send({ replyTo: 'wamid.CTX1' });
    expect(graph.simulator.sent[0]?.context).toEqual({ message_id: 'wamid.CTX1' });
  });

  it('uses the configured API version', async () => {
    await client({ version: 'v25.0' }).sendText({
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: TOKEN,
      to: { wa_id: WA_ID },
      text: 'Hola',
    });
    expect(graph.simulator.graphCalls[0]?.path).toBe(`/v25.0/${PHONE_NUMBER_ID}/messages`);
  });

  it('refuses a recipient with neither user id nor wa_id without calling Meta', async () => {
    const error = await failure(send({ to: {} }));
    expect(error.kind).toBe('permanent');
    expect(graph.simulator.graphCalls).toHaveLength(0);
  });

  it('does not retry a body Meta rejects (text over 4096 characters → error 100)', async () => {
    const error = await failure(send({ text: 'a'.repeat(4097) }));
    expect(error).toMatchObject({ kind: 'permanent', httpStatus: 400, code: 100 });
    expect(graph.simulator.graphCalls).toHaveLength(1);
  });
});

describe('markRead', () => {
  it('marks a message read with the typing indicator', async () => {
    await client().markRead({
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: TOKEN,
      messageId: 'wamid.IN1',
      typing: true,
    });
    expect(graph.simulator.reads).toMatchObject([
      { phoneNumberId: PHONE_NUMBER_ID, messageId: 'wamid.IN1', typing: true },
    ]);
  });

  it('marks a message read without typing', async () => {
    await client().markRead({
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: TOKEN,
      messageId: 'wamid.IN2',
      typing: false,
    });
    expect(graph.simulator.reads).toMatchObject([{ messageId: 'wamid.IN2', typing: false }]);
  });
});

describe('errors and retries', () => {
  it('retries throughput errors (130429) with backoff: two failures then success make three calls', async () => {
    graph.simulator.failNext(2, { httpStatus: 400, code: 130429 });
    const { messageId } = await send();
    expect(graph.simulator.graphCalls.map((call) => call.status)).toEqual([400, 400, 200]);
    expect(graph.simulator.sent).toHaveLength(1);
    expect(graph.simulator.sent[0]?.id).toBe(messageId);
  });

  it('treats HTTP 429 as throughput and waits Retry-After', async () => {
    graph.simulator.failNext(1, { httpStatus: 429, code: 4, retryAfterSeconds: 1 });
    const started = Date.now();
    await send();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(graph.simulator.graphCalls).toHaveLength(2);
  });

  it('retries the pair rate limit (131056)', async () => {
    graph.simulator.failNext(1, { httpStatus: 400, code: 131056 });
    await send();
    expect(graph.simulator.graphCalls).toHaveLength(2);
  });

  it('throws token_invalid on 190 without retrying', async () => {
    graph.simulator.failNext(5, { httpStatus: 401, code: 190, subcode: 463 });
    const error = await failure(send());
    expect(error).toMatchObject({
      kind: 'token_invalid',
      httpStatus: 401,
      code: 190,
      subcode: 463,
      attempts: 1,
    });
    expect(error.fbtraceId).toMatch(/^SIM/);
    expect(error.retryable).toBe(false);
    expect(graph.simulator.graphCalls).toHaveLength(1);
  });

  it('throws window_closed on 131047 without retrying', async () => {
    graph.simulator.failNext(5, { httpStatus: 400, code: 131047, subcode: 2494010 });
    const error = await failure(send());
    expect(error).toMatchObject({ kind: 'window_closed', code: 131047 });
    expect(error.retryable).toBe(false);
    expect(graph.simulator.graphCalls).toHaveLength(1);
  });

  it('throws spam_paused on 131048 without retrying', async () => {
    graph.simulator.failNext(5, { httpStatus: 400, code: 131048 });
    const error = await failure(send());
    expect(error.kind).toBe('spam_paused');
    expect(error.retryable).toBe(false);
    expect(graph.simulator.graphCalls).toHaveLength(1);
  });

  it('retries a 500 and, once retries are exhausted, throws a retryable unavailable error', async () => {
    graph.simulator.failNext(10, { httpStatus: 500, code: 131000, message: 'Something went wrong' });
    const error = await failure(send());
    expect(error).toMatchObject({ kind: 'unavailable', httpStatus: 500, attempts: 4 });
    expect(error.retryable).toBe(true);
    expect(graph.simulator.graphCalls).toHaveLength(4);
    expect(graph.simulator.sent).toHaveLength(0);
  });

  it('applies a fault only to the phone number it targets', async () => {
    graph.simulator.failNext(1, { httpStatus: 400, code: 131048, phoneNumberId: '999' });
    await send();
    expect(graph.simulator.sent).toHaveLength(1);
  });

  it('retries the read receipt too', async () => {
    graph.simulator.failNext(1, { httpStatus: 503, code: 1 });
    await client().markRead({
      phoneNumberId: PHONE_NUMBER_ID,
      accessToken: TOKEN,
      messageId: 'wamid.IN3',
      typing: true,
    });
    expect(graph.simulator.reads).toHaveLength(1);
    expect(graph.simulator.graphCalls).toHaveLength(2);
  });

  it('never puts the token in the error, even when Meta echoes it', async () => {
    graph.simulator.failNext(1, { httpStatus: 401, code: 190, message: `Malformed access token ${TOKEN}` });
    const error = await failure(send());
    expect(error.message).toContain('[redacted]');
    for (const rendered of [error.message, String(error), error.stack ?? '', JSON.stringify(error)]) {
      expect(rendered).not.toContain(TOKEN);
    }
  });

  it('reports a refused connection as a retryable unavailable error after retrying', async () => {
    const closed = await unusedPort();
    const error = await failure(
      createGraphClient({ baseUrl: `http://127.0.0.1:${closed}`, retries: 1, backoffMs: 1 }).sendText({
        phoneNumberId: PHONE_NUMBER_ID,
        accessToken: TOKEN,
        to: { wa_id: WA_ID },
        text: 'Hola',
      }),
    );
    expect(error).toMatchObject({ kind: 'unavailable', httpStatus: 0, attempts: 2 });
    expect(error.message).not.toContain(TOKEN);
  });

  it('times out a silent server, as an ambiguous send (Meta may have received it)', async () => {
    const silent: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const error = await failure(
        createGraphClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 0, timeoutMs: 100 }).sendText({
          phoneNumberId: PHONE_NUMBER_ID,
          accessToken: TOKEN,
          to: { wa_id: WA_ID },
          text: 'Hola',
        }),
      );
      expect(error.kind).toBe('ambiguous');
      expect(error.message).toContain('timed out');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("Meta's verdicts, as the sender port's failure kinds", () => {
  it.each([
    [400, 130429, 'rate_limited'],
    [429, undefined, 'rate_limited'],
    [400, 80007, 'rate_limited'],
    [400, 131056, 'pair_rate_limited'],
    [400, 131047, 'window_closed'],
    [400, 131048, 'spam_paused'],
    [401, 190, 'token_invalid'],
    [401, undefined, 'token_invalid'],
    [500, undefined, 'unavailable'],
    [502, 131000, 'unavailable'],
    [0, undefined, 'unavailable'],
    [400, 100, 'permanent'],
    [403, 10, 'permanent'],
    [400, 131062, 'permanent'],
  ] as const)('HTTP %s code %s → %s', (status, code, kind) => {
    expect(classifyGraphError(status, code)).toBe(kind);
  });

  it("is the sender port's failure, with a short detail for the operator", async () => {
    graph.simulator.failNext(1, { httpStatus: 401, code: 190 });
    const error = await failure(send());
    expect(error).toBeInstanceOf(SendFailure);
    expect(error.detail).toBe('Graph API error 190');
  });

  it('reads the codes of failed delivery statuses the same way', () => {
    expect(kindOfGraphCode(131047)).toBe('window_closed');
    expect(client().deliveryFailureKind(131047)).toBe('window_closed');
    expect(client().deliveryFailureKind(131026)).toBeUndefined();
  });
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
