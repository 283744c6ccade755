import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { composeParts, notFoundUnder } from '../../infra/local/simulator/router.ts';
import type { SimulatorPart } from '../../infra/local/simulator/types.ts';

/** The router that composes the simulator's parts: a new capability is one more part in the list. */

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Serves `handle` on a host server that answers 418 for whatever the simulator leaves alone. */
async function serve(handle: SimulatorPart): Promise<string> {
  server = createServer(async (req, res) => {
    if (!(await handle(req, res))) res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const answering =
  (path: string, body: string): SimulatorPart =>
  async (req, res) => {
    if (req.url !== path) return false;
    res.writeHead(200).end(body);
    return true;
  };

describe('composeParts', () => {
  it('gives each request to the first part that takes it, and the rest back to the host', async () => {
    // Given two parts and a later one that would also take /a
    const base = await serve(
      composeParts([answering('/a', 'first'), answering('/b', 'second'), answering('/a', 'shadowed')]),
    );
    expect(await (await fetch(`${base}/a`)).text()).toBe('first');
    expect(await (await fetch(`${base}/b`)).text()).toBe('second');
    expect((await fetch(`${base}/c`)).status).toBe(418);
  });

  it('answers 500 when a part throws, with the reason', async () => {
    const base = await serve(
      composeParts([
        async () => {
          throw new Error('broken part');
        },
      ]),
    );
    const response = await fetch(`${base}/anything`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'simulator_error', message: 'broken part' });
  });

  it('keeps a prefix to itself with notFoundUnder', async () => {
    const base = await serve(composeParts([answering('/simulator', 'page'), notFoundUnder('/simulator')]));
    expect((await fetch(`${base}/simulator/nope`)).status).toBe(404);
    expect((await fetch(`${base}/simulatorx`)).status).toBe(418);
  });
});
