/**
 * The load benchmark: the local stack under Meta's rate, measured from outside. A load generator
 * (load-generator.ts, its own thread) offers signed webhooks on an open-loop schedule — by default
 * 1,000 per second for 10 s, one new customer each — and times every acknowledgement; the offline FAQ
 * responder answers; a zero-latency Graph server (graph-sink.ts, its own thread) counts the answers.
 * Reported: acknowledgement latency, answers drained per second, duplicates and customers left
 * unanswered, DynamoDB and SQS requests per answered message (what the AWS bill is made of), the
 * functions' in-process time, and where the machine's CPU went. A short warm-up at the same rate comes
 * first (JIT, connections), then the measured run; every isolate the run may use is started before
 * (provisioned), so the figures are those of a warm stack.
 *
 * `npx tsx bench/load.ts` runs it alone; `npm run bench` runs it too. BENCH_RATE, BENCH_SECONDS,
 * BENCH_WARMUP_SECONDS and BENCH_DRAIN_TIMEOUT_MS change the offer; BENCH_ISOLATES the isolates
 * (`webhook=1x64,assistant=2x2`: isolates × invocations each).
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FunctionUsage } from '../infra/local/function-isolate.ts';
import type { LocalStack, LocalStackOptions, LocalStackUsage } from '../infra/local/stack.ts';
import { buildInboundPayload, serializeLikeMeta } from '../infra/local/whatsapp-simulator.ts';
import { signWebhookBody } from '../lib/webhook/signature.ts';
import type { SinkReport } from './graph-sink.ts';
import type { LoadPlan, LoadResult } from './load-generator.ts';

const APP_SECRET = 'load-bench-secret';
const OPERATOR_KEY = 'load-bench-operator';
const PHONE_NUMBER_ID = '100000000000199';
const FAQS = [
  {
    q: '¿Cuál es vuestro horario?',
    a: 'Abrimos de lunes a viernes de 9:00 a 22:00, y sábados de 10:00 a 23:00',
  },
  { q: '¿Hacéis reservas?', a: 'Sí, puedes reservar llamando o a través de nuestra web' },
  {
    q: '¿Tenéis menú del día?',
    a: 'Sí, nuestro menú del día cuesta 12€ e incluye primer plato, segundo, postre y bebida',
  },
];

export interface LoadOptions {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** How long the answers may take to drain after the offer ends. */
  drainTimeoutMs: number;
  /** Isolates per function (the stack's defaults otherwise). */
  isolates?: LocalStackOptions['isolates'];
}

interface PerFunction {
  invocations: number;
  /** CPU of the function's isolates per invocation (ms): its in-process time. */
  cpuMs: number;
  /** Wall time its event loops were busy per invocation (ms; preemption on a loaded machine included). */
  busyMs: number;
  /** Lambda's Duration per invocation (ms). */
  durationP50: number;
  durationP99: number;
}

export interface LoadReport {
  offered: number;
  rate: number;
  startupMs: number;
  ack: { p50: number; p99: number; max: number; non200: number; failed: number; p99BySecond: number[] };
  answered: number;
  unanswered: number;
  duplicates: number;
  /** Answers per second from the first delivery to the last answer. */
  drainedPerSecond: number;
  /** Answers per second while the load was offered, and after it ended. */
  duringLoadPerSecond: number;
  afterLoadPerSecond: number;
  /** Requests per answered message, by service and by operation. */
  perMessage: { dynamodb: number; sqs: number; s3: number; byOperation: Record<string, number> };
  assistant: PerFunction;
  webhook: PerFunction;
  /** Isolates started before the run, and during it (cold starts). */
  isolates: Record<string, { total: number; duringRun: number }>;
  /** CPU time by component: over the measured run (offer and drain), and while the load was offered. */
  cpu: {
    wallMs: number;
    byComponentMs: Record<string, number>;
    offerWallMs: number;
    offerByComponentMs: Record<string, number>;
    /** CPU time of every process on the machine (ms; /proc/stat): shows a run disturbed from outside. */
    machineMs: number;
    offerMachineMs: number;
  };
}

type StartStack = (options: LocalStackOptions) => Promise<LocalStack>;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

function startThread(file: string, data?: unknown): Worker {
  return new Worker(new URL(file, import.meta.url), {
    workerData: data,
    execArgv: [],
    name: `bench:${file.replace(/^\.\/|\.ts$/g, '')}`,
  });
}

function deliveries(from: number, count: number): LoadPlan['deliveries'] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const body = serializeLikeMeta(
      buildInboundPayload({
        phoneNumberId: PHONE_NUMBER_ID,
        from: `3469${String(n).padStart(7, '0')}`,
        text: '¿Tenéis menú del día?',
        messageId: `wamid.LOAD${n}`,
      }),
    );
    return { body, signature: signWebhookBody(body, APP_SECRET) };
  });
}

async function offer(meta: Worker, rate: number, plan: LoadPlan['deliveries']): Promise<LoadResult> {
  const reply = once(meta, 'message') as Promise<[LoadResult]>;
  meta.postMessage({ type: 'run', rate, deliveries: plan });
  return (await reply)[0];
}

async function sinkReport(sink: Worker): Promise<SinkReport> {
  const reply = once(sink, 'message') as Promise<[SinkReport]>;
  sink.postMessage({ type: 'report' });
  return (await reply)[0];
}

/** Waits until `expected` texts arrived, or none came for `quietMs`, or `timeoutMs` passed. */
async function answers(sink: Worker, expected: number, timeoutMs: number, quietMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const report = await sinkReport(sink);
    if (report.texts >= expected || Date.now() > deadline) return report;
    if (report.texts !== last) {
      last = report.texts;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function usageBetween(before: FunctionUsage, after: FunctionUsage): PerFunction {
  const invocations = after.invocations - before.invocations;
  const durations = after.durationMs.slice(before.durationMs.length);
  return {
    invocations,
    cpuMs: (after.cpuMs - before.cpuMs) / Math.max(1, invocations),
    busyMs: (after.busyMs - before.busyMs) / Math.max(1, invocations),
    durationP50: percentile(durations, 0.5),
    durationP99: percentile(durations, 0.99),
  };
}

function requestsBetween(before: LocalStackUsage, after: LocalStackUsage): Record<string, number> {
  const requests: Record<string, number> = {};
  for (const [op, count] of Object.entries(after.requests)) {
    const delta = count - (before.requests[op] ?? 0);
    if (delta > 0) requests[op] = delta;
  }
  return requests;
}

/**
 * CPU time (ms) of this process's threads by name (the isolates are `lambda:<function>`, the emulator
 * threads `emulator:<kind>`, the benchmark's `bench:<part>`) and of its child processes (DynamoDB
 * Local's JVM), from /proc: where the machine's cores went. Empty where /proc is not Linux's.
 */
function cpuByComponent(): Record<string, number> {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  };
  const group = (comm: string) => {
    if (/^(lambda|emulator|bench):/.test(comm))
      return comm
        .replace(/^lambda:assistan$/, 'lambda:assistant')
        .replace(/^lambda:provisio$/, 'lambda:provisioner');
    if (comm === 'MainThread') return 'main thread (HTTP, pollers)';
    if (comm === 'V8Worker' || comm === 'DelayedTaskSche') return 'V8 helpers (GC, compilers)';
    return 'other threads';
  };
  const cpu: Record<string, number> = {};
  const add = (key: string, ms: number) => {
    cpu[key] = (cpu[key] ?? 0) + ms;
  };
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        add(group(comm), ticks(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
      } catch {
        // The thread ended meanwhile.
      }
    }
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) continue;
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        add(name === 'java' ? 'DynamoDB Local (JVM)' : `child: ${name}`, ticks(stat));
      } catch {
        // Not ours, or gone.
      }
    }
  } catch {
    return {};
  }
  return cpu;
}

/** CPU time (ms) the whole machine spent busy since boot, every process included (Linux; 0 elsewhere). */
function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
    return (user + nice + system + irq + softirq) * 10;
  } catch {
    return 0;
  }
}

const minus = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([key, ms]) => [key, ms - (before[key] ?? 0)]));

export async function benchLoad(startLocalStack: StartStack, options: LoadOptions): Promise<LoadReport> {
  const stoppers: Array<() => Promise<unknown>> = [];
  const sink = startThread('./graph-sink.ts');
  stoppers.push(() => sink.terminate());
  const [{ port: sinkPort }] = (await once(sink, 'message')) as [{ port: number }];
  // The offline FAQ responder: no OpenAI, whatever the environment says.
  delete process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_BASE_URL;
  const started = performance.now();
  const stack = await startLocalStack({
    port: 0,
    namePrefix: `load-${Date.now()}`,
    withSes: false,
    seedDemo: false,
    lowPriorityConsumers: true,
    ...(options.isolates ? { isolates: options.isolates } : {}),
    provisioned: { webhook: Number.POSITIVE_INFINITY, assistant: Number.POSITIVE_INFINITY },
    env: {
      META_APP_SECRET: APP_SECRET,
      OPERATOR_API_KEY: OPERATOR_KEY,
      GRAPH_API_BASE_URL: `http://127.0.0.1:${sinkPort}`,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  const startupMs = performance.now() - started;
  try {
    const created = await fetch(`${stack.url}/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Restaurante La Plaza (load)',
        phone_number: '+15555550199',
        phone_number_id: PHONE_NUMBER_ID,
        faqs: FAQS,
        // Every customer writes once: measure the pipeline, not the debounce's wait.
        reply_delay_seconds: 0,
      }),
    });
    if (created.status !== 201) throw new Error(`could not create the tenant: ${await created.text()}`);

    // Meta: one load generator, and its connections, for the warm-up and the measured run.
    const meta = startThread('./load-generator.ts', { url: stack.url, connections: 256 });
    stoppers.push(() => meta.terminate());
    const warmCount = Math.round(options.rate * options.warmupSeconds);
    if (warmCount > 0) {
      await offer(meta, options.rate, deliveries(0, warmCount));
      await answers(sink, warmCount, options.drainTimeoutMs);
      await stack.drained(60_000).catch(() => undefined);
    }

    const { texts: before, recipients: recipientsBefore } = await sinkReport(sink);
    const usageBefore = await stack.usage();
    const cpuBefore = cpuByComponent();
    const machineBefore = machineBusyMs();
    const wallBefore = performance.now();
    const count = Math.round(options.rate * options.seconds);
    const load = await offer(meta, options.rate, deliveries(warmCount, count));
    const cpuOffer = cpuByComponent();
    const machineOffer = machineBusyMs();
    const report = await answers(sink, before + count, options.drainTimeoutMs);
    await stack.drained(30_000).catch(() => undefined);
    const usageAfter = await stack.usage();
    const cpuAfter = cpuByComponent();
    const machineAfter = machineBusyMs();
    const wallMs = performance.now() - wallBefore;

    const times = report.textTimes.slice(before);
    const answered = times.length;
    const lastAnswer = times.at(-1) ?? load.endedAt;
    const loadEnd = load.startedAt + options.seconds * 1000;
    const during = times.filter((t) => t <= loadEnd).length;
    const ok = load.latencyMs.filter((ms, i) => ms >= 0 && load.status[i] === 200);

    const requests = requestsBetween(usageBefore, usageAfter);
    const per = (n: number) => n / Math.max(1, answered);
    const sum = (service: string) =>
      per(
        Object.entries(requests)
          .filter(([op]) => op.startsWith(`${service}.`))
          .reduce((total, [, n]) => total + n, 0),
      );
    const between = (name: 'assistant' | 'webhook') =>
      usageBetween(usageBefore.functions[name], usageAfter.functions[name]);
    return {
      offered: count,
      rate: options.rate,
      startupMs,
      ack: {
        p50: percentile(ok, 0.5),
        p99: percentile(ok, 0.99),
        max: ok.length > 0 ? Math.max(...ok) : Number.NaN,
        non200: load.status.filter((s) => s !== 200 && s !== 0).length,
        failed: load.status.filter((s) => s === 0).length,
        p99BySecond: Array.from({ length: Math.ceil(options.seconds) }, (_, second) =>
          percentile(
            load.latencyMs
              .slice(second * options.rate, (second + 1) * options.rate)
              .filter((ms, i) => ms >= 0 && load.status[second * options.rate + i] === 200),
            0.99,
          ),
        ),
      },
      answered,
      unanswered: count - (report.recipients - recipientsBefore),
      duplicates: report.duplicates,
      drainedPerSecond: answered / ((lastAnswer - load.startedAt) / 1000),
      duringLoadPerSecond: during / options.seconds,
      afterLoadPerSecond: (answered - during) / Math.max(0.001, (lastAnswer - loadEnd) / 1000),
      perMessage: {
        dynamodb: sum('dynamodb'),
        sqs: sum('sqs'),
        s3: sum('s3'),
        byOperation: Object.fromEntries(Object.entries(requests).map(([op, n]) => [op, per(n)])),
      },
      assistant: between('assistant'),
      webhook: between('webhook'),
      isolates: Object.fromEntries(
        Object.entries(usageAfter.functions).map(([name, u]) => [
          name,
          {
            total: u.coldStarts,
            duringRun: u.coldStarts - usageBefore.functions[name as 'webhook'].coldStarts,
          },
        ]),
      ),
      cpu: {
        wallMs,
        byComponentMs: minus(cpuAfter, cpuBefore),
        offerWallMs: load.endedAt - load.startedAt,
        offerByComponentMs: minus(cpuOffer, cpuBefore),
        machineMs: machineAfter - machineBefore,
        offerMachineMs: machineOffer - machineBefore,
      },
    };
  } finally {
    for (const stop of stoppers.reverse()) await stop();
    await stack.stop();
  }
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

function cpuParts(byComponentMs: Record<string, number>, per: number, unit: 'ms' | 'µs'): string {
  return Object.entries(byComponentMs)
    .filter(([, ms]) => ms > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([name, ms]) => `${name} ${unit === 'ms' ? f(ms / per, 2) : f((1000 * ms) / per, 0)} ${unit}`)
    .join(', ');
}

export function loadTable(report: LoadReport): string[] {
  const rows = [
    `| offered | ${report.offered} signed webhooks at ${report.rate}/s, one new customer each |`,
    `| stack startup (every isolate provisioned) | ${f(report.startupMs / 1000, 1)} s |`,
    `| ack latency (due → answered) | p50 ${f(report.ack.p50, 2)} ms, p99 ${f(report.ack.p99, 2)} ms, max ${f(report.ack.max, 1)} ms |`,
    `| … p99 by second of the offer | ${report.ack.p99BySecond.map((ms) => f(ms, 0)).join(', ')} ms |`,
    `| acks not 200 / no answer | ${report.ack.non200} / ${report.ack.failed} |`,
    `| customers answered / unanswered / duplicates | ${report.answered} / ${report.unanswered} / ${report.duplicates} |`,
    `| answers drained | ${f(report.drainedPerSecond, 0)}/s overall (${f(report.duringLoadPerSecond, 0)}/s during the offer, ${f(report.afterLoadPerSecond, 0)}/s after) |`,
  ];
  const byOperation = Object.entries(report.perMessage.byOperation)
    .sort(([, a], [, b]) => b - a)
    .map(([op, n]) => `${op} ${f(n, 2)}`)
    .join(', ');
  rows.push(
    `| requests per answered message | DynamoDB ${f(report.perMessage.dynamodb, 2)}, SQS ${f(report.perMessage.sqs, 2)}, S3 ${f(report.perMessage.s3, 2)} |`,
    `| … by operation | ${byOperation} |`,
  );
  for (const [name, usage] of [
    ['assistant per message', report.assistant],
    ['webhook per delivery', report.webhook],
  ] as const) {
    rows.push(
      `| ${name} | in-process ${f(usage.cpuMs, 2)} ms CPU (event loop busy ${f(usage.busyMs, 2)} ms); Lambda Duration p50 ${f(usage.durationP50, 2)} ms, p99 ${f(usage.durationP99, 2)} ms |`,
    );
  }
  const isolates = Object.entries(report.isolates)
    .filter(([, n]) => n.total > 0)
    .map(([name, n]) => `${name} ${n.total}${n.duringRun ? ` (${n.duringRun} cold during the run)` : ''}`)
    .join(', ');
  rows.push(`| isolates | ${isolates} |`);
  const total = Object.values(report.cpu.byComponentMs).reduce((sum, ms) => sum + ms, 0);
  const offerTotal = Object.values(report.cpu.offerByComponentMs).reduce((sum, ms) => sum + ms, 0);
  if (offerTotal > 0) {
    rows.push(
      `| CPU while offered | ${f(offerTotal / report.cpu.offerWallMs, 2)} cores; per delivery: ${cpuParts(report.cpu.offerByComponentMs, report.offered, 'µs')} |`,
      `| … other processes on the machine | ${f(Math.max(0, report.cpu.offerMachineMs - offerTotal) / report.cpu.offerWallMs, 2)} cores while offered, ${f(Math.max(0, report.cpu.machineMs - total) / report.cpu.wallMs, 2)} over the run |`,
    );
  }
  if (total > 0 && report.answered > 0) {
    rows.push(
      `| CPU over the run | ${f(total / report.cpu.wallMs, 2)} cores for ${f(report.cpu.wallMs / 1000, 1)} s; per answered message: ${cpuParts(report.cpu.byComponentMs, report.answered, 'ms')} |`,
    );
  }
  return ['| load on the local stack | |', '|---|---|', ...rows];
}

/** `webhook=1x64,assistant=2x2` → isolates × invocations per isolate, per function. */
function parseIsolates(value: string | undefined): LoadOptions['isolates'] {
  if (!value) return undefined;
  const isolates: NonNullable<LoadOptions['isolates']> = {};
  for (const part of value.split(',')) {
    const match = /^(\w+)=(\d+)x(\d+)$/.exec(part.trim());
    if (!match) throw new Error(`BENCH_ISOLATES: expected name=<isolates>x<invocations>, got ${part}`);
    isolates[match[1] as 'webhook'] = { isolates: Number(match[2]), invocationsPerIsolate: Number(match[3]) };
  }
  return isolates;
}

export function loadOptionsFromEnv(): LoadOptions {
  const number = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return process.env[name] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  const isolates = parseIsolates(process.env.BENCH_ISOLATES);
  return {
    rate: number('BENCH_RATE', 1000),
    seconds: number('BENCH_SECONDS', 10),
    warmupSeconds: number('BENCH_WARMUP_SECONDS', 2),
    drainTimeoutMs: number('BENCH_DRAIN_TIMEOUT_MS', 240_000),
    ...(isolates ? { isolates } : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { startLocalStack } = await import('../infra/local/stack.ts');
  const report = await benchLoad(startLocalStack, loadOptionsFromEnv());
  console.log(`\nNode ${process.version}, ${availableParallelism()} cores\n`);
  for (const row of loadTable(report)) console.log(row);
  process.exit(0);
}
