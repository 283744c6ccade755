/**
 * The load benchmark's Meta (bench/load.ts), on a worker thread of its own: sends pre-signed webhook
 * deliveries on an open-loop schedule (request i is due at start + i / rate, whether or not earlier
 * ones were answered, as Meta does) over keep-alive connections, and measures each acknowledgement
 * from the moment it was due, so a stall counts against every request it delays (no coordinated
 * omission). It stays up between runs (warm-up, then the measured run) with its connections open, as
 * Meta's senders do.
 *
 * It shares the machine with what it measures, so it is lean: plain HTTP/1.1 over raw sockets, each
 * request a prebuilt buffer, one request at a time per connection, a connection opened only when all
 * are busy (up to `connections`); node:http's client cost about five times as much CPU per request.
 * Only node: modules: Node's type stripping loads this file.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/** One run: its rate and deliveries (the worker is created with `{ url, connections }`). */
export interface LoadPlan {
  /** Deliveries per second. */
  rate: number;
  /** Bodies and their X-Hub-Signature-256, in sending order. */
  deliveries: Array<{ body: string; signature: string }>;
}

export interface LoadResult {
  /** Epoch ms when the first delivery was due, and when the last one was answered. */
  startedAt: number;
  endedAt: number;
  /** Due-to-answered time per delivery (ms); -1 when it failed. */
  latencyMs: number[];
  /** HTTP status per delivery (0: no answer). */
  status: number[];
  errors: string[];
}

const { url, connections } = workerData as { url: string; connections: number };
const target = new URL(url);
const port = Number(target.port);

interface Connection {
  socket: Socket;
  buffered: Buffer;
  current: { onAnswer: (status: number) => void } | undefined;
}

const idle: Connection[] = [];
const all = new Set<Connection>();
/** Requests waiting for a connection (all busy and at the cap, or one being opened). */
const waiting: Array<{ bytes: Buffer; onAnswer: (status: number) => void }> = [];
let opening = 0;

/** Status and total length of the first complete response in `data`, if there is one. */
function completeResponse(data: Buffer): { status: number; length: number } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString('latin1');
  const status = Number(head.slice(9, 12));
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    // Chunks: "<hex size>\r\n<data>\r\n", ending with a chunk of size 0 and an empty line.
    let at = end + 4;
    for (;;) {
      const line = data.indexOf('\r\n', at);
      if (line < 0) return undefined;
      const size = Number.parseInt(data.subarray(at, line).toString('latin1'), 16);
      at = line + 2 + size + 2;
      if (at > data.length) return undefined;
      if (size === 0) return { status, length: at };
    }
  }
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const length = end + 4 + (match ? Number(match[1]) : 0);
  return data.length >= length ? { status, length } : undefined;
}

function open(): void {
  opening++;
  const connection: Connection = {
    socket: connect({ host: target.hostname, port, noDelay: true }),
    buffered: Buffer.alloc(0),
    current: undefined,
  };
  const lost = () => {
    if (!all.delete(connection)) return;
    const at = idle.indexOf(connection);
    if (at >= 0) idle.splice(at, 1);
    connection.current?.onAnswer(0);
    connection.current = undefined;
  };
  connection.socket.once('connect', () => {
    opening--;
    all.add(connection);
    release(connection);
  });
  connection.socket.on('data', (chunk: Buffer) => {
    connection.buffered = connection.buffered.length ? Buffer.concat([connection.buffered, chunk]) : chunk;
    const response = completeResponse(connection.buffered);
    if (!response) return;
    connection.buffered = connection.buffered.subarray(response.length);
    const answered = connection.current;
    connection.current = undefined;
    answered?.onAnswer(response.status);
    release(connection);
  });
  connection.socket.on('error', () => undefined);
  connection.socket.on('close', () => {
    if (!all.has(connection)) opening = Math.max(0, opening - 1);
    lost();
  });
}

function release(connection: Connection): void {
  const next = waiting.shift();
  if (!next) return void idle.push(connection);
  connection.current = { onAnswer: next.onAnswer };
  connection.socket.write(next.bytes);
}

function post(bytes: Buffer, onAnswer: (status: number) => void): void {
  const connection = idle.pop();
  if (connection) {
    connection.current = { onAnswer };
    connection.socket.write(bytes);
    return;
  }
  waiting.push({ bytes, onAnswer });
  if (all.size + opening < connections && opening < waiting.length) open();
}

function requestBytes(delivery: LoadPlan['deliveries'][number]): Buffer {
  const body = Buffer.from(delivery.body);
  return Buffer.concat([
    Buffer.from(
      `POST /webhook HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\n` +
        `x-hub-signature-256: ${delivery.signature}\r\ncontent-length: ${body.length}\r\n\r\n`,
      'latin1',
    ),
    body,
  ]);
}

function run(plan: LoadPlan): Promise<LoadResult> {
  const total = plan.deliveries.length;
  const requests = plan.deliveries.map(requestBytes);
  const latencyMs = new Array<number>(total).fill(-1);
  const status = new Array<number>(total).fill(0);
  const errors: string[] = [];
  const interval = 1000 / plan.rate;
  const start = performance.now() + 50;
  let answered = 0;
  let nextToSend = 0;
  return new Promise((resolve) => {
    if (total === 0) return resolve({ startedAt: 0, endedAt: 0, latencyMs, status, errors });
    const send = (i: number) => {
      const due = start + i * interval;
      post(requests[i]!, (code) => {
        latencyMs[i] = code ? performance.now() - due : -1;
        status[i] = code;
        if (!code && errors.length < 10) errors.push(`delivery ${i}: connection lost`);
        if (++answered < total) return;
        resolve({
          startedAt: performance.timeOrigin + start,
          endedAt: performance.timeOrigin + performance.now(),
          latencyMs,
          status,
          errors,
        });
      });
    };
    const tick = () => {
      const now = performance.now();
      while (nextToSend < total && start + nextToSend * interval <= now) send(nextToSend++);
      if (nextToSend < total)
        setTimeout(tick, Math.max(0, start + nextToSend * interval - performance.now()));
    };
    setTimeout(tick, 50);
  });
}

parentPort!.on('message', async (message: ({ type: 'run' } & LoadPlan) | { type: 'stop' }) => {
  if (message.type === 'stop') {
    for (const connection of all) connection.socket.destroy();
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(await run(message));
});
