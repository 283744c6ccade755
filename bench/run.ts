/**
 * `npm run bench`: performance figures for the README (never asserted in tests).
 * 1. The webhook handler in-process: throughput and latency percentiles (signature check, parse,
 *    validate, route, build queue messages), with a no-op queue and with fauxqs through the real SDK.
 * 2. End to end on the local stack with zero-latency fakes (OpenAI and Graph): from Meta's POST to
 *    the reply reaching the Graph API.
 * 3. Load on the local stack over HTTP (bench/load.ts): Meta's rate offered open-loop, the offline FAQ
 *    responder, a zero-latency Graph server; acknowledgement latency, answers drained per second, and
 *    the DynamoDB and SQS requests per answered message. BENCH_LOAD=off skips it.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
process.env.AWS_ACCESS_KEY_ID ??= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
process.env.AWS_REGION ??= 'us-east-1';

const { performance } = await import('node:perf_hooks');
const { createWebhookHandler } = await import('../functions/webhook.ts');
const { createCachedTenantRouter } = await import('../lib/webhook/tenant-router.ts');
const { sendFifoMessages } = await import('../lib/queue/sqs-publisher.ts');
const { signWebhookBody } = await import('../lib/webhook/signature.ts');
const { buildInboundPayload, serializeLikeMeta, startStandaloneSimulator } = await import(
  '../infra/local/whatsapp-simulator.ts'
);
const { startSqsAndS3 } = await import('../infra/local/emulators.ts');
const { httpApiEvent } = await import('../infra/local/lambda-events.ts');
const { startLocalStack } = await import('../infra/local/stack.ts');
const { DEMO_PHONE_NUMBER_ID } = await import('../infra/local/demo-tenant.ts');
const { createAwsClients } = await import('../lib/aws-clients.ts');
const { CreateQueueCommand } = await import('@aws-sdk/client-sqs');
const { startFakeOpenAi } = await import('../test/fakes/openai-server.ts');
const { benchLoad, loadOptionsFromEnv, loadTable } = await import('./load.ts');

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1)! };
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

const APP_SECRET = 'bench-secret';
// The demo tenant's number (the local stack seeds it): the end-to-end part writes to it.
const PHONE = DEMO_PHONE_NUMBER_ID;

function webhookEvent(i: number) {
  const body = serializeLikeMeta(
    buildInboundPayload({
      phoneNumberId: PHONE,
      from: `3460${String(i).padStart(7, '0')}`,
      text: '¿Tenéis menú del día?',
      messageId: `wamid.BENCH${i}`,
    }),
  );
  return httpApiEvent({
    method: 'POST',
    path: '/webhook',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
    body,
  });
}

async function benchWebhook(label: string, enqueue: (messages: never[]) => Promise<void>, count: number) {
  // One router for the whole run, as in production (built once per process): its cache is warm.
  const router = createCachedTenantRouter(async () => ({ client_id: 'cl_bench', active: true }));
  const handler = createWebhookHandler(async () => ({
    appSecret: APP_SECRET,
    verifyToken: 'v',
    router,
    enqueue,
  }));
  const events = Array.from({ length: count }, (_, i) => webhookEvent(i));
  for (let i = 0; i < Math.min(200, count); i++) await handler(events[i]!); // warm up
  const samples: number[] = [];
  const start = performance.now();
  for (const event of events) {
    const t = performance.now();
    const res = await handler(event);
    samples.push(performance.now() - t);
    if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`);
  }
  const seconds = (performance.now() - start) / 1000;
  const s = summary(samples);
  return { label, count, throughput: count / seconds, ...s };
}

const rows: string[] = [];

// 1a. No-op queue: our own code only.
const noop = await benchWebhook('webhook handler, no-op queue', async () => undefined, 5000);
// 1b. fauxqs through the real SDK (a loopback HTTP round trip per delivery).
const fauxqs = await startSqsAndS3();
const aws = createAwsClients({
  ...process.env,
  AWS_ACCESS_KEY_ID: 'b',
  AWS_SECRET_ACCESS_KEY: 'b',
  AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
});
const { QueueUrl } = await aws.sqs.send(
  new CreateQueueCommand({
    QueueName: 'bench.fifo',
    Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
  }),
);
const withSqs = await benchWebhook(
  'webhook handler, SQS FIFO (fauxqs)',
  (m) => sendFifoMessages(aws.sqs, QueueUrl!, m),
  1000,
);
for (const r of [noop, withSqs]) {
  rows.push(
    `| ${r.label} | ${r.count} | ${r.throughput.toFixed(0)} req/s | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} |`,
  );
}

// 2. End to end on the local stack, zero-latency fakes.
const openai = await startFakeOpenAi();
const graph = await startStandaloneSimulator({ appSecret: APP_SECRET });
const stack = await startLocalStack({
  port: 0,
  sqsEndpoint: fauxqs.endpoint,
  namePrefix: `bench-${Date.now()}`,
  withSes: false,
  env: {
    META_APP_SECRET: APP_SECRET,
    OPERATOR_API_KEY: 'bench-operator',
    GRAPH_API_BASE_URL: graph.graphBaseUrl,
    OPENAI_API_KEY: openai.key,
    OPENAI_BASE_URL: openai.url,
  },
});
// The pipeline's own latency: the demo tenant answers each message at once. With the default
// reply_delay_seconds (3) every answer waits that long for the rest of a burst, by design.
{
  const auth = { authorization: 'Bearer bench-operator', 'content-type': 'application/json' };
  const { clients } = (await (await fetch(`${stack.url}/clients`, { headers: auth })).json()) as {
    clients: { id: string; phone_number_id: string }[];
  };
  const demo = clients.find((client) => client.phone_number_id === PHONE);
  if (!demo) throw new Error('the demo tenant is missing');
  const patched = await fetch(`${stack.url}/clients/${demo.id}`, {
    method: 'PATCH',
    headers: auth,
    body: JSON.stringify({ reply_delay_seconds: 0 }),
  });
  if (patched.status !== 200) throw new Error(`could not set reply_delay_seconds: ${await patched.text()}`);
}
const e2eCount = 100;
const webhookSamples: number[] = [];
const e2eSamples: number[] = [];
for (let i = 0; i < e2eCount; i++) {
  const from = `3461${String(i).padStart(7, '0')}`;
  const body = serializeLikeMeta(
    buildInboundPayload({
      phoneNumberId: PHONE,
      from,
      text: '¿Abrís el domingo?',
      messageId: `wamid.E2E${i}`,
    }),
  );
  const t = performance.now();
  const res = await fetch(`${stack.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
    body,
  });
  webhookSamples.push(performance.now() - t);
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  // The demo tenant welcomes first contacts: wait for the model's answer (the last reply).
  await graph.simulator.waitForSent((m) => m.to === from && m.text.startsWith('[fake-openai]'), 20_000);
  e2eSamples.push(performance.now() - t);
  graph.simulator.reset();
}
const hw = summary(webhookSamples);
const e2e = summary(e2eSamples);
rows.push(
  `| webhook over HTTP on the local stack | ${e2eCount} | – | ${ms(hw.p50)} | ${ms(hw.p99)} | ${ms(hw.max)} |`,
);
rows.push(
  `| end to end: Meta POST → reply at Graph (local stack) | ${e2eCount} | – | ${ms(e2e.p50)} | ${ms(e2e.p99)} | ${ms(e2e.max)} |`,
);

await stack.stop();
await graph.stop();
await openai.stop();
await fauxqs.stop();

// 3. Load on the local stack (its own emulators, like `npm start`).
const load =
  process.env.BENCH_LOAD === 'off' ? undefined : await benchLoad(startLocalStack, loadOptionsFromEnv());

console.log(`\nNode ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
console.log('| what | n | throughput | p50 | p99 | max |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
if (load) {
  console.log('');
  for (const row of loadTable(load)) console.log(row);
}
process.exit(0);
