import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHostAllowlist } from '../host-allowlist.ts';
import { hostRefusal, refuse } from '../request-guards.ts';
import { sendJson } from './http.ts';
import { createWhatsAppSimulator } from './simulator.ts';
import type { SimulatorOptions, WhatsAppSimulator } from './types.ts';

/** The simulator on its own loopback port: a fake Graph API for tests (and the chat page with it). */

export interface StandaloneSimulator {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Use as GRAPH_API_BASE_URL / createGraphClient({ baseUrl }). */
  graphBaseUrl: string;
  simulator: WhatsAppSimulator;
  stop(): Promise<void>;
}

export async function startStandaloneSimulator(
  options: SimulatorOptions & { port?: number; host?: string },
): Promise<StandaloneSimulator> {
  const { port = 0, host = '127.0.0.1', ...simulatorOptions } = options;
  const simulator = createWhatsAppSimulator(simulatorOptions);
  // Loopback names only (no DNS rebinding); set again once listening, when the port is known.
  let hosts = createHostAllowlist(port);
  const server = createServer((req, res) => {
    const refusal = hostRefusal(req, hosts);
    if (refusal) return refuse(res, refusal);
    simulator.handle(req, res).then(
      (handled) => {
        if (!handled) sendJson(res, 404, { error: 'not_found', message: 'not found' });
      },
      () => {
        if (!res.headersSent) sendJson(res, 500, { error: 'simulator_error' });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  hosts = createHostAllowlist(address.port);
  const url = `http://${host}:${address.port}`;
  return {
    url,
    graphBaseUrl: `${url}${simulator.graphPathPrefix}`,
    simulator,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
