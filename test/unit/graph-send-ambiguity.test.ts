import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/emulators.ts';
import { createGraphClient, GraphApiError } from '../../lib/whatsapp/graph-client.ts';

/** A send that may have reached Meta is never repeated; one that cannot have reached it is. */

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function slowGraph(delayMs: number) {
  let posts = 0;
  server = createServer((req, res) => {
    posts++;
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ messages: [{ id: `wamid.${posts}` }] }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts: () => posts };
}

const send = (baseUrl: string) =>
  createGraphClient({ baseUrl, timeoutMs: 100, retries: 3, backoffMs: 1 }).sendText({
    phoneNumberId: '123456',
    accessToken: 'token-xyz',
    to: { wa_id: '34600000000' },
    text: 'hola',
  });

describe('Graph send retries', () => {
  it('given a send that times out (Meta may have accepted it), then it is not repeated and the error says so', async () => {
    const graph = await slowGraph(300);
    const error = await send(graph.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphApiError);
    expect((error as GraphApiError).kind).toBe('ambiguous');
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(graph.posts()).toBe(1);
  });

  it('given nothing listening (the request cannot have reached Meta), then the send is retried', async () => {
    const port = await freePort();
    const error = (await send(`http://127.0.0.1:${port}`).catch((e: unknown) => e)) as GraphApiError;
    expect(error.kind).toBe('unavailable');
    expect(error.attempts).toBe(4);
  });
});
