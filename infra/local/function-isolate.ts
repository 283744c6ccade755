import { Worker } from 'node:worker_threads';
import { addCounts, type EmulatorEndpoints, type RequestCounts } from './aws-request-counter.ts';
import type { IsolateReply, IsolateRequest, IsolateWorkerData, SerializedError } from './isolate-worker.ts';

/**
 * Runs a function the way Lambda does: in execution environments of its own (here worker threads,
 * isolate-worker.ts), each with its own module state and the environment it was created with. An
 * invocation takes a warm isolate with room; when none has room a new one is started (a cold start:
 * it imports the function's bundle) up to the function's most isolates, beyond which invocations
 * wait their turn. An invocation past its timeout fails and its isolate is discarded, as Lambda
 * discards the environment; one that crashes is replaced by the next cold start.
 *
 * Lambda runs one invocation per environment, and so does an isolate by default
 * (`invocationsPerIsolate: 1`). On a small machine one thread per concurrent invocation costs more
 * than the work (each thread warms its own JIT, the CPU caches thrash), so the local stack lets the
 * busy functions run several invocations at once in one isolate: they then share its module state,
 * which the handlers must tolerate (they keep nothing per invocation at module scope).
 */

export interface FunctionPoolOptions {
  functionName: string;
  /** The module exporting `handler` (the function's bundle). */
  entryUrl: URL;
  env: Record<string, string>;
  /** Most isolates at once. */
  maxIsolates: number;
  /** Invocations one isolate runs at once (Lambda: 1). */
  invocationsPerIsolate?: number;
  timeoutMs: number;
  memoryMb: number;
  endpoints: EmulatorEndpoints;
  /** Niceness of the isolates' threads (Linux): consumers run below the webhook's path. */
  nice?: number;
}

/** What the pool measured: Lambda's Duration and Init Duration, plus what the bill is made of. */
export interface FunctionUsage {
  invocations: number;
  errors: number;
  coldStarts: number;
  /** Init duration of each isolate started (ms). */
  initMs: number[];
  /** Duration of each invocation (ms). */
  durationMs: number[];
  /** CPU time of the isolates' threads (ms): the function's in-process time, summed. */
  cpuMs: number;
  /** Wall time the isolates' event loops were busy (ms; on a loaded machine, preemption included). */
  busyMs: number;
  /** Requests the isolates sent to the emulators, by operation. */
  requests: RequestCounts;
}

export class FunctionError extends Error {
  constructor(functionName: string, error: SerializedError) {
    super(`${functionName}: ${error.message}`);
    this.name = error.name;
    if (error.stack) this.stack = `${functionName}: ${error.stack}`;
  }
}

interface Invocation {
  event: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type ResultReply = Extract<IsolateReply, { type: 'result' }>;
type UsageReply = Extract<IsolateReply, { type: 'usage' }>;

const WORKER_URL = new URL('./isolate-worker.ts', import.meta.url);

class Isolate {
  readonly worker: Worker;
  readonly ready: Promise<number>;
  /** Gone (crashed, exited, terminated) or retired (discarded after a timeout): takes no new work. */
  gone = false;
  private readonly running = new Map<number, { invocation: Invocation; timer: NodeJS.Timeout }>();
  private nextId = 1;

  constructor(
    private readonly options: FunctionPoolOptions,
    private readonly onReply: (reply: ResultReply | UsageReply, counted: boolean) => void,
    private readonly onFree: (isolate: Isolate) => void,
    private readonly onGone: (isolate: Isolate) => void,
    private readonly onTimeout: () => void,
  ) {
    const data: IsolateWorkerData = {
      functionName: options.functionName,
      entryUrl: options.entryUrl.href,
      memoryMb: options.memoryMb,
      endpoints: options.endpoints,
      ...(options.nice ? { nice: options.nice } : {}),
    };
    this.worker = new Worker(WORKER_URL, {
      workerData: data,
      env: { ...options.env },
      // Nothing of the parent's command line (loaders, inspector) carries over.
      execArgv: [],
      // Lambda's memory setting bounds the heap; past it the isolate dies like an environment out of memory.
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb },
      name: `lambda:${options.functionName}`,
    });
    this.ready = new Promise<number>((resolve, reject) => {
      this.worker.once('message', (reply: IsolateReply) => {
        if (reply.type === 'ready') resolve(reply.initMs);
        else if (reply.type === 'init-error') reject(new FunctionError(options.functionName, reply.error));
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) =>
        reject(new Error(`${options.functionName} isolate exited (${code})`)),
      );
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: IsolateReply) => {
      if (reply.type === 'usage') return this.onReply(reply, false);
      if (reply.type !== 'result') return;
      const entry = this.running.get(reply.id);
      // The result of an invocation that timed out counts its usage only (the timeout counted it).
      this.onReply(reply, entry !== undefined);
      if (!entry) return;
      this.running.delete(reply.id);
      clearTimeout(entry.timer);
      if (reply.ok) entry.invocation.resolve(reply.value);
      else entry.invocation.reject(new FunctionError(options.functionName, reply.error!));
      if (this.gone) {
        if (this.running.size === 0) void this.worker.terminate();
      } else this.onFree(this);
    });
    const lost = (error: unknown) => {
      const wasGone = this.gone;
      this.gone = true;
      for (const { invocation, timer } of this.running.values()) {
        clearTimeout(timer);
        invocation.reject(error);
      }
      this.running.clear();
      if (!wasGone) this.onGone(this);
    };
    this.worker.on('error', lost);
    this.worker.on('exit', (code) => lost(new Error(`${options.functionName} isolate exited (${code})`)));
  }

  get inFlight(): number {
    return this.running.size;
  }

  invoke(invocation: Invocation): void {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      // Lambda stops the invocation and throws the environment away: no new work goes to this
      // isolate, and it ends once the invocations it still runs for others have finished.
      const seconds = (this.options.timeoutMs / 1000).toFixed(2);
      this.running.delete(id);
      this.onTimeout();
      invocation.reject(new Error(`${this.options.functionName}: Task timed out after ${seconds} seconds`));
      if (!this.gone) {
        this.gone = true;
        this.onGone(this);
      }
      if (this.running.size === 0) void this.worker.terminate();
    }, this.options.timeoutMs);
    this.running.set(id, { invocation, timer });
    const request: IsolateRequest = {
      type: 'invoke',
      id,
      event: invocation.event,
      deadline: Date.now() + this.options.timeoutMs,
    };
    this.worker.postMessage(request);
  }

  /** Asks for the usage counted since the last reply (answered with a `usage` message). */
  requestUsage(): void {
    if (!this.gone) this.worker.postMessage({ type: 'usage' } satisfies IsolateRequest);
  }

  async terminate(): Promise<void> {
    this.gone = true;
    for (const { invocation, timer } of this.running.values()) {
      clearTimeout(timer);
      invocation.reject(new Error(`${this.options.functionName}: stopped`));
    }
    this.running.clear();
    await this.worker.terminate();
  }
}

export class FunctionPool {
  private readonly isolates = new Set<Isolate>();
  /** Ready isolates, most recently started last. */
  private readonly warm: Isolate[] = [];
  private readonly waiting: Invocation[] = [];
  private starting = 0;
  private stopped = false;
  readonly usage: FunctionUsage = {
    invocations: 0,
    errors: 0,
    coldStarts: 0,
    initMs: [],
    durationMs: [],
    cpuMs: 0,
    busyMs: 0,
    requests: {},
  };

  constructor(private readonly options: FunctionPoolOptions) {}

  get name(): string {
    return this.options.functionName;
  }

  get maxIsolates(): number {
    return this.options.maxIsolates;
  }

  private get perIsolate(): number {
    return Math.max(1, this.options.invocationsPerIsolate ?? 1);
  }

  /** Invocations that may run at once. */
  get concurrency(): number {
    return this.options.maxIsolates * this.perIsolate;
  }

  /** Starts isolates up to `count` ahead of traffic (Lambda's provisioned concurrency) and waits for them. */
  async provision(count = 1): Promise<void> {
    const wanted = Math.min(count, this.options.maxIsolates) - this.isolates.size;
    await Promise.all(Array.from({ length: Math.max(0, wanted) }, () => this.start()));
  }

  invoke(event: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error(`${this.name}: the local stack is stopping`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.dispatch();
    });
  }

  /** Collects what the isolates counted since their last result (CPU, requests) into `usage`. */
  async refreshUsage(): Promise<FunctionUsage> {
    const replies = [...this.isolates].map(
      (isolate) =>
        new Promise<void>((resolve) => {
          const done = (reply: IsolateReply) => {
            if (reply.type !== 'usage') return;
            isolate.worker.off('message', done);
            resolve();
          };
          isolate.worker.on('message', done);
          isolate.requestUsage();
          setTimeout(() => {
            isolate.worker.off('message', done);
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(replies);
    return this.usage;
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      // The least busy warm isolate with room: concurrent invocations spread over the threads.
      let target: Isolate | undefined;
      for (const isolate of this.warm) {
        if (isolate.gone || isolate.inFlight >= this.perIsolate) continue;
        if (!target || isolate.inFlight < target.inFlight) target = isolate;
      }
      if (!target) break;
      target.invoke(this.waiting.shift()!);
    }
    const wanted = Math.ceil(this.waiting.length / this.perIsolate) - this.starting;
    const room = this.options.maxIsolates - this.isolates.size;
    for (let i = 0; i < Math.min(wanted, room); i++) {
      this.start().catch((error: unknown) => {
        // A cold start that fails fails the invocation that was waiting for it (Runtime.ImportModuleError).
        this.waiting.shift()?.reject(error);
        this.dispatch();
      });
    }
  }

  private record(reply: ResultReply | UsageReply, counted: boolean): void {
    const usage = reply.type === 'result' ? reply.usage : reply;
    if (reply.type === 'result' && counted) {
      this.usage.invocations++;
      if (!reply.ok) this.usage.errors++;
      this.usage.durationMs.push(reply.durationMs);
    }
    this.usage.cpuMs += usage.cpuMs;
    this.usage.busyMs += usage.busyMs;
    addCounts(this.usage.requests, usage.requests);
  }

  private async start(): Promise<void> {
    const isolate = new Isolate(
      this.options,
      (reply, counted) => this.record(reply, counted),
      () => queueMicrotask(() => this.dispatch()),
      (gone) => {
        this.isolates.delete(gone);
        const at = this.warm.indexOf(gone);
        if (at >= 0) this.warm.splice(at, 1);
        if (!this.stopped) this.dispatch();
      },
      () => {
        this.usage.invocations++;
        this.usage.errors++;
        this.usage.durationMs.push(this.options.timeoutMs);
      },
    );
    this.isolates.add(isolate);
    this.starting++;
    try {
      const initMs = await isolate.ready;
      this.usage.coldStarts++;
      this.usage.initMs.push(initMs);
    } catch (error) {
      this.isolates.delete(isolate);
      void isolate.terminate();
      throw error;
    } finally {
      this.starting--;
    }
    if (this.stopped) return void isolate.terminate();
    if (!isolate.gone) {
      this.warm.push(isolate);
      this.dispatch();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const invocation of this.waiting.splice(0)) invocation.reject(new Error(`${this.name}: stopped`));
    await Promise.all([...this.isolates].map((isolate) => isolate.terminate()));
    this.isolates.clear();
    this.warm.length = 0;
  }
}
