/**
 * The inside of one function isolate (a worker thread; see function-isolate.ts): like a Lambda
 * execution environment it loads its function once (the cold start), with the environment it was
 * created with and module state of its own, then runs one invocation at a time: `{ invoke }` in,
 * `{ result }` out, with the invocation's duration, the time its event loop was busy (the in-process
 * time) and the requests it sent to the emulators.
 *
 * It loads the function's Lambda bundle (function-bundles.ts) with source maps on, as the deployed
 * function runs (NODE_OPTIONS=--enable-source-maps). This file is loaded by Node's own type stripping.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { countAwsRequests } from './aws-request-counter.ts';

export interface IsolateWorkerData {
  functionName: string;
  /** File URL of the function's bundle (or of any module exporting `handler`). */
  entryUrl: string;
  memoryMb: number;
  /** host:port → service, to count the requests sent to the emulators. */
  endpoints: Record<string, 'dynamodb' | 'sqs-s3'>;
  /** Niceness of this thread (Linux): consumers yield the CPU to the webhook's path. */
  nice?: number;
}

export type IsolateRequest = { type: 'invoke'; id: number; event: unknown; deadline: number };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type IsolateReply =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: SerializedError }
  | {
      type: 'result';
      id: number;
      ok: boolean;
      value?: unknown;
      error?: SerializedError;
      durationMs: number;
      activeMs: number;
      cpuMs: number;
      requests: Record<string, number>;
    };

const data = workerData as IsolateWorkerData;
const port = parentPort!;
const post = (reply: IsolateReply) => port.postMessage(reply);

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error)
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
}

/** This thread's id on Linux (/proc/thread-self → <pid>/task/<tid>), to lower its priority. */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: the isolate runs at normal priority.
  }
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

async function load(): Promise<Handler> {
  process.setSourceMapsEnabled(true);
  const module = (await import(data.entryUrl)) as { handler?: Handler };
  if (typeof module.handler !== 'function') throw new Error(`${data.entryUrl} exports no handler`);
  return module.handler;
}

const counter = countAwsRequests(data.endpoints);

/** The Lambda context the handlers may read (remaining time, request id, names). */
function lambdaContext(deadline: number) {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: data.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${data.functionName}`,
    memoryLimitInMB: String(data.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${data.functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const started = performance.now();
let handler: Handler;
try {
  handler = await load();
  // After the cold start: a consumer loads as fast as anything, then runs below the webhook's path.
  if (data.nice) lowerPriority(data.nice);
  post({ type: 'ready', initMs: performance.now() - started });
} catch (error) {
  post({ type: 'init-error', error: serializeError(error) });
  process.exit(1);
}

port.on('message', async (request: IsolateRequest) => {
  if (request.type !== 'invoke') return;
  const before = performance.eventLoopUtilization();
  const cpuBefore = process.threadCpuUsage();
  const start = performance.now();
  let reply: IsolateReply;
  try {
    const value = await handler(request.event, lambdaContext(request.deadline));
    reply = {
      type: 'result',
      id: request.id,
      ok: true,
      value,
      durationMs: 0,
      activeMs: 0,
      cpuMs: 0,
      requests: {},
    };
  } catch (error) {
    const failed = serializeError(error);
    reply = {
      type: 'result',
      id: request.id,
      ok: false,
      error: failed,
      durationMs: 0,
      activeMs: 0,
      cpuMs: 0,
      requests: {},
    };
  }
  reply.durationMs = performance.now() - start;
  reply.activeMs = performance.eventLoopUtilization(before).active;
  const cpu = process.threadCpuUsage(cpuBefore);
  reply.cpuMs = (cpu.user + cpu.system) / 1000;
  reply.requests = counter.take();
  try {
    post(reply);
  } catch (error) {
    // A result the structured clone cannot carry (a function, a class instance with private state).
    post({ ...reply, ok: false, value: undefined, error: serializeError(error) });
  }
});
