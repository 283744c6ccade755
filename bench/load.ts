/**
 * The load benchmark: the local stack under Meta's rate, measured from outside. A load generator
 * (load-generator.ts, its own thread) offers signed webhooks on an open-loop schedule — by default
 * 1,000 per second for 10 s, one new customer each — and times every acknowledgement; the offline FAQ
 * responder answers; a zero-latency Graph server (graph-sink.ts, its own thread) counts the answers.
 * Reported: acknowledgement latency, answers drained per second, duplicates and customers left
 * unanswered, DynamoDB and SQS requests per answered message (what the AWS bill is made of) and the
 * functions' in-process time. A short warm-up at the same rate comes first (isolates start, JIT warms),
 * then the measured run. `npx tsx bench/load.ts` runs it alone; `npm run bench` runs it too.
 * BENCH_RATE, BENCH_SECONDS and BENCH_WARMUP_SECONDS change the offer.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
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
  concurrency?: LocalStackOptions['concurrency'];
}

export interface LoadReport {
  offered: number;
  rate: number;
  startupMs: number;
  ack: { p50: number; p99: number; max: number; non200: number; failed: number };
  answered: number;
  unanswered: number;
  duplicates: number;
  /** Answers per second from the first delivery to the last answer. */
  drainedPerSecond: number;
  /** Answers per second while the load was offered, and after it ended. */
  duringLoadPerSecond: number;
  afterLoadPerSecond: number;
  /** Requests per answered message, by service and by operation. */
  perMessage: { dynamodb: number; sqs: number; s3: number; byOperation: Record<string, number> } | undefined;
  /** Per invocation (ms): busy time of the isolate's event loop (in-process) and Lambda's Duration. */
  assistant:
    | {
        /** CPU time of the isolate's thread per message (ms). */
        inProcessMean: number;
        inProcessP50: number;
        inProcessP99: number;
        /** Wall time its event loop was busy per message (ms; preemption on a loaded machine included). */
        busyMean: number;
        durationP50: number;
        durationP99: number;
      }
    | undefined;
  webhook: { inProcessMean: number; busyMean: number; durationP50: number; durationP99: number } | undefined;
  /** CPU time by component over the measured run (offer and drain), and its wall time. */
  cpu: { wallMs: number; byComponentMs: Record<string, number> };
  coldStartsDuringRun: Record<string, number> | undefined;
  isolates: Record<string, number> | undefined;
}

type StartStack = (options: LocalStackOptions) => Promise<LocalStack>;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

function startThread<T>(file: string, data?: unknown): { worker: Worker; first: Promise<T> } {
  const worker = new Worker(new URL(file, import.meta.url), {
    workerData: data,
    execArgv: [],
    name: `bench:${file.replace(/^\.\/|\.ts$/g, '')}`,
  });
  const first = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, first };
}

function deliveries(from: number, count: number) {
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

async function offer(url: string, rate: number, plan: LoadPlan['deliveries']): Promise<LoadResult> {
  const { worker, first } = startThread<LoadResult>('./load-generator.ts', {
    url,
    rate,
    deliveries: plan,
    connections: 256,
  } satisfies LoadPlan);
  const result = await first;
  await worker.terminate();
  return result;
}

async function sinkReport(sink: Worker): Promise<SinkReport> {
  const reply = once(sink, 'message') as Promise<[SinkReport]>;
  sink.postMessage({ type: 'report' });
  return (await reply)[0];
}

/** Waits until `expected` texts arrived, or no new one came for `quietMs`, or `timeoutMs` passed. */
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

function diffUsage(before: LocalStackUsage, after: LocalStackUsage) {
  const functions: Record<string, FunctionUsage> = {};
  for (const [name, now] of Object.entries(after.functions)) {
    const then = before.functions[name as keyof typeof before.functions];
    const requests: Record<string, number> = {};
    for (const [op, count] of Object.entries(now.requests)) requests[op] = count - (then.requests[op] ?? 0);
    functions[name] = {
      invocations: now.invocations - then.invocations,
      errors: now.errors - then.errors,
      coldStarts: now.coldStarts - then.coldStarts,
      initMs: now.initMs.slice(then.initMs.length),
      durationMs: now.durationMs.slice(then.durationMs.length),
      activeMs: now.activeMs.slice(then.activeMs.length),
      cpuMs: now.cpuMs.slice(then.cpuMs.length),
      requests,
    };
  }
  const requests: Record<string, number> = {};
  for (const [op, count] of Object.entries(after.requests)) {
    const delta = count - (before.requests[op] ?? 0);
    if (delta > 0) requests[op] = delta;
  }
  return { functions, requests };
}

/**
 * CPU time (ms) of this process's threads by name (the isolates are named `lambda:<function>`, the
 * emulator threads `emulator:<kind>`) and of its child processes (DynamoDB Local's JVM), from /proc:
 * where the machine's two cores went. Empty where /proc is not Linux's.
 */
function cpuByComponent(): Record<string, number> {
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  };
  const group = (comm: string) => {
    if (comm.startsWith('lambda:') || comm.startsWith('emulator:') || comm.startsWith('bench:'))
      return comm
        .replace('lambda:assistan', 'lambda:assistant')
        .replace('lambda:provisio', 'lambda:provisioner');
    if (comm === 'MainThread') return 'main thread (HTTP, pollers)';
    if (comm === 'V8Worker' || comm === 'DelayedTaskSche') return 'V8 helpers (GC, compilers)';
    return 'other threads';
  };
  const cpu: Record<string, number> = {};
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const key = group(comm);
      cpu[key] = (cpu[key] ?? 0) + ticks(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
    }
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const key = name === 'java' ? 'DynamoDB Local (JVM)' : `child: ${name}`;
      cpu[key] = (cpu[key] ?? 0) + ticks(stat);
    }
  } catch {
    return {};
  }
  return cpu;
}

/** Copies the usage (its arrays grow while the stack runs). */
const snapshot = (usage: LocalStackUsage): LocalStackUsage => structuredClone(usage);

export async function benchLoad(startLocalStack: StartStack, options: LoadOptions): Promise<LoadReport> {
  const sink = startThread<{ port: number }>('./graph-sink.ts');
  const { port: sinkPort } = await sink.first;
  // The offline FAQ responder: no OpenAI, whatever the environment says.
  delete process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_BASE_URL;
  const started = performance.now();
  const stack = await startLocalStack({
    port: 0,
    namePrefix: `load-${Date.now()}`,
    withSes: false,
    seedDemo: false,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    env: {
      META_APP_SECRET: APP_SECRET,
      OPERATOR_API_KEY: OPERATOR_KEY,
      GRAPH_API_BASE_URL: `http://127.0.0.1:${sinkPort}`,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  const startupMs = performance.now() - started;
  if (process.env.BENCH_JAVA_NICE) {
    const { setPriority } = await import('node:os');
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === process.pid && stat.includes('(java)')) {
          for (const tid of readdirSync(`/proc/${pid}/task`))
            setPriority(Number(tid), Number(process.env.BENCH_JAVA_NICE));
        }
      } catch {}
    }
  }
  try {
    const created = await fetch(`${stack.url}/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Restaurante La Plaza (load)',
        phone_number: '+15555550199',
        phone_number_id: PHONE_NUMBER_ID,
        faqs: FAQS,
      }),
    });
    if (created.status !== 201) throw new Error(`could not create the tenant: ${await created.text()}`);

    // Warm-up: the same rate for a moment, answered in full before the measured run.
    const warmCount = Math.round(options.rate * options.warmupSeconds);
    if (warmCount > 0) {
      await offer(stack.url, options.rate, deliveries(0, warmCount));
      await answers(sink.worker, warmCount, options.drainTimeoutMs);
      await stack.drained(60_000).catch(() => undefined);
    }
    const { texts: before, recipients: recipientsBefore } = await sinkReport(sink.worker);
    const usageBefore = stack.usage ? snapshot(stack.usage()) : undefined;
    const cpuBefore = cpuByComponent();
    const wallBefore = performance.now();

    const count = Math.round(options.rate * options.seconds);
    const load = await offer(stack.url, options.rate, deliveries(warmCount, count));
    const report = await answers(sink.worker, before + count, options.drainTimeoutMs);
    await stack.drained(30_000).catch(() => undefined);
    const usage = usageBefore && stack.usage ? diffUsage(usageBefore, snapshot(stack.usage())) : undefined;
    const cpuAfter = cpuByComponent();
    const cpuMs: Record<string, number> = {};
    for (const [key, ms] of Object.entries(cpuAfter)) cpuMs[key] = ms - (cpuBefore[key] ?? 0);
    const wallMs = performance.now() - wallBefore;

    const times = report.textTimes.slice(before);
    const answered = times.length;
    const lastAnswer = times.at(-1) ?? load.endedAt;
    const loadEnd = load.startedAt + options.seconds * 1000;
    const during = times.filter((t) => t <= loadEnd).length;
    const ok = load.latencyMs.filter((ms, i) => ms >= 0 && load.status[i] === 200);

    let perMessage: LoadReport['perMessage'];
    if (usage) {
      const byOperation: Record<string, number> = {};
      const sum = (prefix: string) =>
        Object.entries(usage.requests)
          .filter(([op]) => op.startsWith(prefix))
          .reduce((total, [, n]) => total + n, 0) / Math.max(1, answered);
      for (const [op, n] of Object.entries(usage.requests)) byOperation[op] = n / Math.max(1, answered);
      perMessage = { dynamodb: sum('dynamodb.'), sqs: sum('sqs.'), s3: sum('s3.'), byOperation };
    }
    const assistant = usage?.functions.assistant;
    const webhook = usage?.functions.webhook;
    return {
      offered: count,
      rate: options.rate,
      startupMs,
      ack: {
        p50: percentile(ok, 0.5),
        p99: percentile(ok, 0.99),
        max: Math.max(...ok),
        non200: load.status.filter((s) => s !== 200 && s !== 0).length,
        failed: load.status.filter((s) => s === 0).length,
      },
      answered,
      unanswered: count - (report.recipients - recipientsBefore),
      duplicates: report.duplicates,
      drainedPerSecond: answered / ((lastAnswer - load.startedAt) / 1000),
      duringLoadPerSecond: during / options.seconds,
      afterLoadPerSecond: (answered - during) / Math.max(0.001, (lastAnswer - loadEnd) / 1000),
      perMessage,
      assistant: assistant
        ? {
            inProcessMean: mean(assistant.cpuMs),
            inProcessP50: percentile(assistant.cpuMs, 0.5),
            inProcessP99: percentile(assistant.cpuMs, 0.99),
            busyMean: mean(assistant.activeMs),
            durationP50: percentile(assistant.durationMs, 0.5),
            durationP99: percentile(assistant.durationMs, 0.99),
          }
        : undefined,
      webhook: webhook
        ? {
            inProcessMean: mean(webhook.cpuMs),
            busyMean: mean(webhook.activeMs),
            durationP50: percentile(webhook.durationMs, 0.5),
            durationP99: percentile(webhook.durationMs, 0.99),
          }
        : undefined,
      cpu: { wallMs, byComponentMs: cpuMs },
      coldStartsDuringRun: usage
        ? Object.fromEntries(Object.entries(usage.functions).map(([name, u]) => [name, u.coldStarts]))
        : undefined,
      isolates: stack.usage
        ? Object.fromEntries(Object.entries(stack.usage().functions).map(([name, u]) => [name, u.coldStarts]))
        : undefined,
    };
  } finally {
    await stack.stop();
    sink.worker.postMessage({ type: 'stop' });
    await Promise.race([once(sink.worker, 'exit'), new Promise((resolve) => setTimeout(resolve, 1000))]);
    await sink.worker.terminate();
  }
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function loadTable(report: LoadReport): string[] {
  const rows = [
    `| offered | ${report.offered} signed webhooks at ${report.rate}/s, one new customer each |`,
    `| stack startup | ${f(report.startupMs / 1000, 1)} s |`,
    `| ack latency (due → answered) | p50 ${f(report.ack.p50, 2)} ms, p99 ${f(report.ack.p99, 2)} ms, max ${f(report.ack.max, 1)} ms |`,
    `| acks not 200 / no answer | ${report.ack.non200} / ${report.ack.failed} |`,
    `| customers answered / unanswered / duplicates | ${report.answered} / ${report.unanswered} / ${report.duplicates} |`,
    `| answers drained | ${f(report.drainedPerSecond, 0)}/s overall (${f(report.duringLoadPerSecond, 0)}/s during the offer, ${f(report.afterLoadPerSecond, 0)}/s after) |`,
  ];
  if (report.perMessage) {
    const top = Object.entries(report.perMessage.byOperation)
      .sort(([, a], [, b]) => b - a)
      .map(([op, n]) => `${op} ${f(n, 2)}`)
      .join(', ');
    rows.push(
      `| requests per answered message | DynamoDB ${f(report.perMessage.dynamodb, 2)}, SQS ${f(report.perMessage.sqs, 2)}, S3 ${f(report.perMessage.s3, 2)} |`,
      `| … by operation | ${top} |`,
    );
  }
  if (report.assistant) {
    const a = report.assistant;
    rows.push(
      `| assistant per message, in-process (CPU of its isolate) | mean ${f(a.inProcessMean, 2)} ms, p50 ${f(a.inProcessP50, 2)} ms, p99 ${f(a.inProcessP99, 2)} ms (event loop busy: mean ${f(a.busyMean, 2)} ms) |`,
      `| assistant per message (Lambda Duration) | p50 ${f(a.durationP50, 2)} ms, p99 ${f(a.durationP99, 2)} ms |`,
    );
  }
  if (report.webhook) {
    const w = report.webhook;
    rows.push(
      `| webhook per delivery | in-process (CPU) mean ${f(w.inProcessMean, 3)} ms (busy ${f(w.busyMean, 3)} ms); Duration p50 ${f(w.durationP50, 2)} ms, p99 ${f(w.durationP99, 2)} ms |`,
    );
  }
  if (report.isolates) {
    rows.push(
      `| isolates started (during the measured run) | ${Object.entries(report.isolates)
        .map(([name, n]) => `${name} ${n} (${report.coldStartsDuringRun?.[name] ?? 0})`)
        .join(', ')} |`,
    );
  }
  const total = Object.values(report.cpu.byComponentMs).reduce((sum, ms) => sum + ms, 0);
  if (total > 0) {
    const parts = Object.entries(report.cpu.byComponentMs)
      .filter(([, ms]) => ms > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([name, ms]) => `${name} ${f(ms / Math.max(1, report.answered), 2)}`)
      .join(', ');
    rows.push(
      `| CPU over the run | ${f(total / 1000, 1)} s in ${f(report.cpu.wallMs / 1000, 1)} s (${f(total / report.cpu.wallMs, 2)} cores); per answered message (ms): ${parts} |`,
    );
  }
  return ['| load on the local stack | |', '|---|---|', ...rows];
}

export function loadOptionsFromEnv(): LoadOptions {
  const number = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    rate: number('BENCH_RATE', 1000),
    seconds: number('BENCH_SECONDS', 10),
    warmupSeconds: process.env.BENCH_WARMUP_SECONDS === '0' ? 0 : number('BENCH_WARMUP_SECONDS', 1),
    drainTimeoutMs: number('BENCH_DRAIN_TIMEOUT_MS', 180_000),
    ...(process.env.BENCH_ASSISTANT_ISOLATES || process.env.BENCH_WEBHOOK_ISOLATES
      ? {
          concurrency: {
            ...(process.env.BENCH_ASSISTANT_ISOLATES
              ? { assistant: number('BENCH_ASSISTANT_ISOLATES', 8) }
              : {}),
            ...(process.env.BENCH_WEBHOOK_ISOLATES ? { webhook: number('BENCH_WEBHOOK_ISOLATES', 4) } : {}),
          },
        }
      : {}),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { startLocalStack } = await import(process.env.BENCH_STACK_MODULE ?? '../infra/local/stack.ts');
  const report = await benchLoad(startLocalStack as StartStack, loadOptionsFromEnv());
  console.log(`\nNode ${process.version}, ${(await import('node:os')).availableParallelism()} cores\n`);
  for (const row of loadTable(report)) console.log(row);
  process.exit(0);
}
