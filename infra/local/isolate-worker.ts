/**
 * The inside of one function isolate (a worker thread; see function-isolate.ts): like a Lambda
 * execution environment it loads its function once (the cold start), with the environment it was
 * created with and module state of its own, then runs the invocations the pool gives it (one at a
 * time, as in Lambda, unless the pool allows more): `{ invoke }` in, `{ result }` out, with the
 * invocation's duration and what the isolate used since its last report (CPU of its thread, busy
 * time of its loop, requests sent to the emulators).
 *
 * It loads the function's Lambda bundle (function-bundles.ts) with source maps on, as the deployed
 * function runs (NODE_OPTIONS=--enable-source-maps). This file is loaded by Node's own type stripping.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { countAwsRequests } from './aws-request-counter.ts';
import { lowerThisThread } from './thread-priority.ts';

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

export type IsolateRequest =
  | { type: 'invoke'; id: number; event: unknown; deadline: number }
  | { type: 'usage' };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** What the isolate used since its previous report: CPU of its thread, busy time of its loop, requests. */
export interface UsageReport {
  type: 'usage';
  cpuMs: number;
  busyMs: number;
  requests: Record<string, number>;
}

export type IsolateReply =
  | { type: 'ready'; initMs: number }
  | { type: 'init-error'; error: SerializedError }
  | UsageReport
  | {
      type: 'result';
      id: number;
      ok: boolean;
      value?: unknown;
      error?: SerializedError;
      durationMs: number;
      usage: UsageReport;
    };

const data = workerData as IsolateWorkerData;
const port = parentPort!;
const post = (reply: IsolateReply) => port.postMessage(reply);

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error)
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
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
  if (data.nice) lowerThisThread(data.nice);
  post({ type: 'ready', initMs: performance.now() - started });
} catch (error) {
  post({ type: 'init-error', error: serializeError(error) });
  process.exit(1);
}

let lastUtilization = performance.eventLoopUtilization();
let lastCpu = process.threadCpuUsage();

/** Usage since the previous report: with invocations running side by side, only totals mean anything. */
function usageSinceLastReport(): UsageReport {
  const utilization = performance.eventLoopUtilization();
  const cpu = process.threadCpuUsage();
  const report: UsageReport = {
    type: 'usage',
    cpuMs: (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000,
    busyMs: performance.eventLoopUtilization(utilization, lastUtilization).active,
    requests: counter.take(),
  };
  lastUtilization = utilization;
  lastCpu = cpu;
  return report;
}

async function invoke(request: Extract<IsolateRequest, { type: 'invoke' }>): Promise<void> {
  const start = performance.now();
  let outcome: { ok: true; value: unknown } | { ok: false; error: SerializedError };
  try {
    outcome = { ok: true, value: await handler(request.event, lambdaContext(request.deadline)) };
  } catch (error) {
    outcome = { ok: false, error: serializeError(error) };
  }
  const durationMs = performance.now() - start;
  const usage = usageSinceLastReport();
  try {
    post({ type: 'result', id: request.id, ...outcome, durationMs, usage });
  } catch (error) {
    // A result the structured clone cannot carry (a function, a class instance with private state).
    post({ type: 'result', id: request.id, ok: false, error: serializeError(error), durationMs, usage });
  }
}

port.on('message', (request: IsolateRequest) => {
  if (request.type === 'invoke') void invoke(request);
  else if (request.type === 'usage') post(usageSinceLastReport());
});
