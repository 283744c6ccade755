import { Worker } from 'node:worker_threads';
import { addCounts, type EmulatorEndpoints, type RequestCounts } from './aws-request-counter.ts';
import type { IsolateReply, IsolateRequest, IsolateWorkerData, SerializedError } from './isolate-worker.ts';

/**
 * Runs a function the way Lambda does: in execution environments of its own (here worker threads,
 * isolate-worker.ts), each with its own module state and the environment it was created with, each
 * running one invocation at a time. An invocation takes a free warm isolate; when none is free a new
 * one is started (a cold start: it imports the function) up to the function's concurrency, beyond
 * which invocations wait their turn. An isolate whose invocation times out is discarded, as Lambda
 * discards the environment; one that crashes is replaced by the next cold start.
 */

export interface FunctionPoolOptions {
  functionName: string;
  entryUrl: URL;
  env: Record<string, string>;
  /** Most isolates at once (Lambda's concurrency for this function, locally). */
  maxIsolates: number;
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
  /** Time the isolate's event loop was busy during each invocation (ms, wall clock: preemption included). */
  activeMs: number[];
  /** CPU time the isolate's thread spent on each invocation (ms): the in-process time. */
  cpuMs: number[];
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

const WORKER_URL = new URL('./isolate-worker.ts', import.meta.url);

class Isolate {
  readonly worker: Worker;
  readonly ready: Promise<number>;
  busy = false;
  gone = false;
  private current: { id: number; invocation: Invocation; timer: NodeJS.Timeout } | undefined;
  private nextId = 1;

  constructor(
    private readonly options: FunctionPoolOptions,
    private readonly onResult: (isolate: Isolate, reply: Extract<IsolateReply, { type: 'result' }>) => void,
    private readonly onGone: (isolate: Isolate) => void,
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
      if (reply.type !== 'result' || reply.id !== this.current?.id) return;
      const { invocation, timer } = this.current;
      clearTimeout(timer);
      this.current = undefined;
      this.busy = false;
      this.onResult(this, reply);
      if (reply.ok) invocation.resolve(reply.value);
      else invocation.reject(new FunctionError(options.functionName, reply.error!));
    });
    const lost = (error: unknown) => {
      if (this.gone) return;
      this.gone = true;
      if (this.current) {
        clearTimeout(this.current.timer);
        this.current.invocation.reject(error);
        this.current = undefined;
      }
      this.onGone(this);
    };
    this.worker.on('error', lost);
    this.worker.on('exit', (code) => lost(new Error(`${options.functionName} isolate exited (${code})`)));
  }

  invoke(invocation: Invocation): void {
    const id = this.nextId++;
    this.busy = true;
    const timer = setTimeout(() => {
      // Lambda stops the invocation and throws the environment away.
      const seconds = (this.options.timeoutMs / 1000).toFixed(2);
      const error = new Error(`${this.options.functionName}: Task timed out after ${seconds} seconds`);
      this.current = undefined;
      invocation.reject(error);
      this.gone = true;
      this.onGone(this);
      void this.worker.terminate();
    }, this.options.timeoutMs);
    this.current = { id, invocation, timer };
    const request: IsolateRequest = {
      type: 'invoke',
      id,
      event: invocation.event,
      deadline: Date.now() + this.options.timeoutMs,
    };
    this.worker.postMessage(request);
  }

  async terminate(): Promise<void> {
    this.gone = true;
    if (this.current) {
      clearTimeout(this.current.timer);
      this.current.invocation.reject(new Error(`${this.options.functionName}: stopped`));
      this.current = undefined;
    }
    await this.worker.terminate();
  }
}

export class FunctionPool {
  private readonly isolates = new Set<Isolate>();
  private readonly idle: Isolate[] = [];
  private readonly waiting: Invocation[] = [];
  private starting = 0;
  private stopped = false;
  readonly usage: FunctionUsage = {
    invocations: 0,
    errors: 0,
    coldStarts: 0,
    initMs: [],
    durationMs: [],
    activeMs: [],
    cpuMs: [],
    requests: {},
  };

  constructor(private readonly options: FunctionPoolOptions) {}

  get name(): string {
    return this.options.functionName;
  }

  get maxIsolates(): number {
    return this.options.maxIsolates;
  }

  /** Starts `count` isolates ahead of traffic (like provisioned concurrency) and waits until they are ready. */
  async warm(count = 1): Promise<void> {
    const started = Array.from(
      { length: Math.min(count, this.options.maxIsolates) - this.isolates.size },
      () => this.start(),
    );
    await Promise.all(started);
  }

  invoke(event: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error(`${this.name}: the local stack is stopping`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.dispatch();
    });
  }

  /** Invocations in flight or waiting for an isolate. */
  get pending(): number {
    return this.waiting.length + [...this.isolates].filter((isolate) => isolate.busy).length;
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && this.idle.length > 0) {
      const isolate = this.idle.pop()!;
      if (isolate.gone) continue;
      isolate.invoke(this.waiting.shift()!);
    }
    const wanted = this.waiting.length - this.starting;
    const room = this.options.maxIsolates - this.isolates.size;
    for (let i = 0; i < Math.min(wanted, room); i++) {
      this.start().catch((error: unknown) => {
        // A cold start that fails fails the invocation that was waiting for it (Runtime.ImportModuleError).
        this.waiting.shift()?.reject(error);
        this.dispatch();
      });
    }
  }

  private async start(): Promise<void> {
    const isolate = new Isolate(
      this.options,
      (done, reply) => this.record(done, reply),
      (gone) => {
        this.isolates.delete(gone);
        const at = this.idle.indexOf(gone);
        if (at >= 0) this.idle.splice(at, 1);
        if (!this.stopped) this.dispatch();
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
      this.idle.push(isolate);
      this.dispatch();
    }
  }

  private record(isolate: Isolate, reply: Extract<IsolateReply, { type: 'result' }>): void {
    this.usage.invocations++;
    if (!reply.ok) this.usage.errors++;
    this.usage.durationMs.push(reply.durationMs);
    this.usage.activeMs.push(reply.activeMs);
    this.usage.cpuMs.push(reply.cpuMs);
    addCounts(this.usage.requests, reply.requests);
    if (isolate.gone) return;
    this.idle.push(isolate);
    // After the caller's promise settles: the next waiting invocation takes this isolate.
    queueMicrotask(() => this.dispatch());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const invocation of this.waiting.splice(0)) invocation.reject(new Error(`${this.name}: stopped`));
    await Promise.all([...this.isolates].map((isolate) => isolate.terminate()));
    this.isolates.clear();
    this.idle.length = 0;
  }
}
