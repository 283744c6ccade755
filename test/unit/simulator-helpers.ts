import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../lib/webhook/signature.ts';

/**
 * Shared by the simulator's tests: Meta's example bodies, a stand-in for the product's webhook that
 * records deliveries (and may answer through Graph like the bot), and a fake DOM element for running
 * the chat page's script without a browser.
 */

export const APP_SECRET = 'simulator-app-secret';
export const PHONE_NUMBER_ID = '631261586727899';
export const TOKEN = 'EAAGsimulatorTOKEN1234';

export const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/meta-webhooks.json', import.meta.url), 'utf8'),
).examples as Record<string, Record<string, unknown>>;

export interface Delivery {
  raw: Buffer;
  headers: IncomingMessage['headers'];
}

export interface WebhookRecorder {
  url: string;
  deliveries: Delivery[];
  /** Runs on every delivery with a valid signature, before the webhook answers 200. */
  onDelivery: ((body: Record<string, unknown>) => Promise<void>) | undefined;
  stop(): Promise<void>;
}

/** The product's webhook as the simulator sees it: 401 on a bad signature, else 200 EVENT_RECEIVED. */
export async function startWebhookRecorder(appSecret = APP_SECRET): Promise<WebhookRecorder> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    recorder.deliveries.push({ raw, headers: req.headers });
    if (!verifyWebhookSignature(raw, req.headers['x-hub-signature-256'] as string | undefined, appSecret)) {
      res.writeHead(401).end();
      return;
    }
    await recorder.onDelivery?.(JSON.parse(raw.toString('utf8')));
    res.writeHead(200).end('EVENT_RECEIVED');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorder: WebhookRecorder = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    deliveries: [],
    onDelivery: undefined,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return recorder;
}

/**
 * A DOM element that accepts anything the chat page's script does to it: properties it sets read
 * back, everything else is a callable no-op (and '' as a primitive); listeners are recorded by type.
 */
export function fakeElement(listeners: Map<string, (event: unknown) => void>): unknown {
  const state = new Map<PropertyKey, unknown>();
  const element: unknown = new Proxy(() => undefined, {
    get(_target, property) {
      if (property === Symbol.toPrimitive) return () => '';
      if (property === 'then') return undefined;
      if (property === 'addEventListener') {
        return (type: string, listener: (event: unknown) => void) => listeners.set(type, listener);
      }
      return state.has(property) ? state.get(property) : element;
    },
    set(_target, property, value) {
      state.set(property, value);
      return true;
    },
    apply: () => element,
  });
  return element;
}
