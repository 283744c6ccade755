/**
 * The load benchmark's Meta (bench/load.ts), on a worker thread of its own: sends pre-signed webhook
 * deliveries on an open-loop schedule (request i is due at start + i / rate, whether or not earlier
 * ones were answered, as Meta does) over keep-alive connections, and measures each acknowledgement
 * from the moment it was due, so a stall counts against every request it delays (no coordinated
 * omission). Only node: modules: Node's type stripping loads this file.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

export interface LoadPlan {
  url: string;
  /** Deliveries per second. */
  rate: number;
  /** Bodies and their X-Hub-Signature-256, in sending order. */
  deliveries: Array<{ body: string; signature: string }>;
  /** Connections Meta may open at once. */
  connections: number;
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

const plan = workerData as LoadPlan;
const target = new URL(plan.url);
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
const total = plan.deliveries.length;
const latencyMs = new Array<number>(total).fill(-1);
const status = new Array<number>(total).fill(0);
const errors: string[] = [];
const interval = 1000 / plan.rate;
let answered = 0;
let endedAt = 0;
const start = performance.now() + 50;

function send(i: number): void {
  const due = start + i * interval;
  const delivery = plan.deliveries[i]!;
  const req = request(
    {
      host: target.hostname,
      port: target.port,
      path: '/webhook',
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(delivery.body),
        'x-hub-signature-256': delivery.signature,
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => {
        latencyMs[i] = performance.now() - due;
        status[i] = res.statusCode ?? 0;
        finished();
      });
    },
  );
  req.on('error', (error) => {
    if (errors.length < 10) errors.push(String(error));
    finished();
  });
  req.end(delivery.body);
}

function finished(): void {
  answered++;
  if (answered < total) return;
  endedAt = performance.timeOrigin + performance.now();
  const result: LoadResult = {
    startedAt: performance.timeOrigin + start,
    endedAt,
    latencyMs,
    status,
    errors,
  };
  parentPort!.postMessage(result);
  agent.destroy();
}

let nextToSend = 0;
function tick(): void {
  const now = performance.now();
  while (nextToSend < total && start + nextToSend * interval <= now) send(nextToSend++);
  if (nextToSend < total) setTimeout(tick, Math.max(0, start + nextToSend * interval - performance.now()));
}
setTimeout(tick, 50);
