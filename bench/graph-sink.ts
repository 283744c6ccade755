/**
 * A zero-latency Graph API for the load benchmark (bench/load.ts), on a worker thread of its own so
 * it never waits behind the stack it measures: every POST /{version}/{phone_number_id}/messages is
 * answered at once with a message id. It counts text messages per recipient (a duplicate is a second
 * text to the same customer) and the time of each; read receipts are answered and counted apart.
 * Only node: modules: Node's type stripping loads this file.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

export type SinkRequest = { type: 'report' } | { type: 'stop' };
export interface SinkReport {
  type: 'report';
  texts: number;
  reads: number;
  recipients: number;
  duplicates: number;
  /** performance.timeOrigin + performance.now() of each text, in arrival order (epoch ms). */
  textTimes: number[];
}

const port = parentPort!;
const perRecipient = new Map<string, number>();
const textTimes: number[] = [];
let texts = 0;
let reads = 0;
let duplicates = 0;
let next = 0;

const server = createServer({ keepAlive: true }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: { type?: string; to?: string; recipient?: string; status?: string } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // Counted as nothing; answered all the same.
    }
    if (body.status === 'read') reads++;
    else if (body.type === 'text') {
      texts++;
      textTimes.push(performance.timeOrigin + performance.now());
      const who = body.recipient ?? body.to ?? '?';
      const seen = (perRecipient.get(who) ?? 0) + 1;
      perRecipient.set(who, seen);
      if (seen > 1) duplicates++;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      body.status === 'read'
        ? '{"success":true}'
        : `{"messaging_product":"whatsapp","messages":[{"id":"wamid.SINK${next++}"}]}`,
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  port.postMessage({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});

port.on('message', (message: SinkRequest) => {
  if (message.type === 'report') {
    const report: SinkReport = {
      type: 'report',
      texts,
      reads,
      recipients: perRecipient.size,
      duplicates,
      textTimes,
    };
    port.postMessage(report);
  } else if (message.type === 'stop') {
    server.closeAllConnections();
    server.close(() => port.close());
  }
});
