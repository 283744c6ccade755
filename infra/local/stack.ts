import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAwsClients } from '../../lib/aws-clients.ts';
import type { QrRunner } from '../../lib/qr/runner/qr-runner.ts';
import type { SimulatedWhatsApp } from '../../lib/qr/simulated-engine.ts';
import { ensureTable } from '../../lib/storage/table.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import {
  allRoutes,
  type FunctionName,
  type FunctionSpec,
  functions,
  type QueueSpec,
  queues,
  type RouteSpec,
} from '../../lib/topology.ts';
import { addCounts, countAwsRequests, endpointsOf, type RequestCounts } from './aws-request-counter.ts';
import { ensureBucket } from './buckets.ts';
import {
  DEMO_PHONE_NUMBER_ID,
  demoClient,
  demoTenantWanted,
  LEGACY_DEMO_PHONE_NUMBER_ID,
} from './demo-tenant.ts';
import { startEmulatorThread } from './emulator-thread.ts';
import { freePort, type RunningEmulator, startDynamoDb } from './emulators.ts';
import { functionBundles } from './function-bundles.ts';
import { FunctionPool, type FunctionUsage } from './function-isolate.ts';
import {
  createHostAllowlist,
  type HostAllowlist,
  isDirectLoopbackRequest,
  isLoopbackUrl,
} from './host-allowlist.ts';
import { apiGatewayEvent, httpApiEvent, matchPath } from './lambda-events.ts';
import { prepareLocalQrMode } from './qr-mode.ts';
import { type QueuePoller, startQueuePoller } from './queue-poller.ts';
import {
  apiGatewayLimits,
  createInFlightGate,
  credentialsRefusal,
  hostRefusal,
  Refusal,
  type RequestLimits,
  readLimitedBody,
  refuse,
  serverTimeouts,
  startDeadline,
} from './request-guards.ts';
import { rateToMs, startSchedule } from './schedules.ts';
import { SIMULATOR_APP } from './simulator/graph-read-endpoints.ts';
import type { SimulatorPart } from './simulator/types.ts';
import { writeSimulatorToken } from './simulator-token.ts';
import { lowerChildProcess } from './thread-priority.ts';
import { createWhatsAppSimulator, type WhatsAppSimulator } from './whatsapp-simulator.ts';

/**
 * The whole product on one machine: emulators, the HTTP routes served by the very Lambda handlers,
 * SQS pollers feeding the consumers, and the built-in WhatsApp simulator (Graph API stand-in and a
 * chat page). `npm start` runs it (see main.ts); the end-to-end tests start it in-process. Everything
 * listens on 127.0.0.1 only, and the HTTP server guards itself like API Gateway (request-guards.ts).
 *
 * Each function runs as Lambda runs it, in isolates of its own (function-isolate.ts: worker threads
 * with their own module state, one invocation at a time, cold starts included); fauxqs and the SES
 * emulator run on threads of their own and DynamoDB Local in its own process, so the event loop that
 * accepts webhooks only parses requests and hands them on.
 */

export { demoClient } from './demo-tenant.ts';

export interface LocalStackOptions {
  port?: number;
  dataDir?: string;
  /** Environment contract overrides (DESIGN §5); unset names fall back to process.env, then defaults. */
  env?: Record<string, string | undefined>;
  /** The demo tenant (demo-tenant.ts); on unless false or `DEMO_TENANT=off`. */
  seedDemo?: boolean;
  /** Reuse running emulators (tests share one DynamoDB Local and one fauxqs). */
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  /** Distinguishes the table and queues of stacks sharing emulators. */
  namePrefix?: string;
  /** Seconds before a failed queue message is tried again locally. */
  retryDelaySeconds?: number;
  withSes?: boolean;
  /** The HTTP server's limits; API Gateway's by default (tests shorten the time limit). */
  limits?: Partial<RequestLimits>;
  /**
   * Run the consumers (and DynamoDB Local, when the stack starts it) at the lowest CPU priority, so a
   * webhook burst is acknowledged first (npm start and the load bench). Off by default: on a machine
   * busy with other work (a test run) the lowest priority can starve them for seconds.
   */
  lowPriorityConsumers?: boolean;
  /** Isolates per function and invocations per isolate; see `localIsolates`. */
  isolates?: Partial<Record<FunctionName, Partial<IsolateSettings>>>;
  /**
   * Isolates started before the stack is ready (Lambda's provisioned concurrency); by default one
   * for each function that serves routes or consumes a queue, the others start cold on first use.
   */
  provisioned?: Partial<Record<FunctionName, number>>;
}

/** What the functions did, measured at their isolates and at the emulator endpoints. */
export interface LocalStackUsage {
  functions: Record<FunctionName, FunctionUsage>;
  /**
   * Requests sent to the emulators, by operation (`dynamodb.PutItem`, `sqs.ReceiveMessage`): the
   * functions' and the event source mappings' (the pollers'), which AWS bills as well.
   */
  requests: RequestCounts;
}

export interface LocalStack {
  url: string;
  operatorKey: string;
  appSecret: string;
  verifyToken: string;
  demoClientId?: string;
  /** The demo tenant as created (absent with `DEMO_TENANT=off`). */
  demo?: typeof demoClient & { id: string };
  env: Record<string, string>;
  /** The built-in simulator; absent when GRAPH_API_BASE_URL points at a real Graph server. */
  simulator?: WhatsAppSimulator;
  /** QR mode's runner, and the simulated WhatsApp that plays the phone (simulated engine only). */
  qr: { engine: 'simulated' | 'wwebjs'; runner: QrRunner; whatsapp?: SimulatedWhatsApp };
  sesUrl?: string;
  /** Waits until every queue is empty and no batch is in flight. */
  drained(timeoutMs?: number): Promise<void>;
  /** Counters since start (cumulative: diff two readings for a window). */
  usage(): Promise<LocalStackUsage>;
  stop(): Promise<void>;
}

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface IsolateSettings {
  /** Most isolates at once. */
  isolates: number;
  /** Invocations one isolate runs at once (Lambda: one; see function-isolate.ts). */
  invocationsPerIsolate: number;
}

/**
 * How each function runs locally: few isolates, each taking several invocations at once, because
 * on a two-core machine every extra thread costs more than it brings (measured: four webhook isolates
 * spent twice the CPU per delivery of one). Within the topology's maxConcurrency.
 */
export const localIsolates: Record<FunctionName, IsolateSettings> = {
  webhook: { isolates: 1, invocationsPerIsolate: 64 },
  adminApi: { isolates: 1, invocationsPerIsolate: 16 },
  web: { isolates: 1, invocationsPerIsolate: 16 },
  // One isolate spent 9 ms of CPU per answer, two 12-13 ms, for the same drain (DynamoDB Local bounds it).
  assistant: { isolates: 1, invocationsPerIsolate: 4 },
  replyBurst: { isolates: 1, invocationsPerIsolate: 4 },
  provisioner: { isolates: 1, invocationsPerIsolate: 2 },
  purge: { isolates: 1, invocationsPerIsolate: 1 },
};

/** Work nobody waits for runs below the webhook (niceness of the consumers' threads, and SCHED_IDLE: thread-priority.ts). */
const BACKGROUND_NICE = 19;

interface LocalSecrets {
  OPERATOR_API_KEY: string;
  META_APP_SECRET: string;
  META_VERIFY_TOKEN: string;
  LOCAL_SECRETS_KEY: string;
}

/** Generated once per data directory and kept there, so keys and encrypted tenant secrets survive restarts. */
function localSecrets(dataDir: string | undefined): LocalSecrets & { existed: boolean } {
  const file = dataDir ? join(dataDir, 'local-secrets.json') : undefined;
  if (file && existsSync(file))
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets), existed: true };
  const secrets: LocalSecrets = {
    OPERATOR_API_KEY: `op_${randomBytes(24).toString('base64url')}`,
    META_APP_SECRET: randomBytes(24).toString('hex'),
    META_VERIFY_TOKEN: `verify_${randomBytes(12).toString('base64url')}`,
    LOCAL_SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  if (file) writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return { ...secrets, existed: false };
}

async function createQueue(sqs: SQSClient, name: string, spec: QueueSpec) {
  const suffix = spec.fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = spec.fifo
    ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' }
    : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: fifoAttributes }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
      },
    }),
  );
  const arn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  if (!queue.QueueUrl || !arn) throw new Error(`could not create queue ${name}`);
  return { url: queue.QueueUrl, arn };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2) {
  // The deadline may have answered already (504); the handler's late result is dropped.
  if (res.headersSent) return;
  const body = result.body ?? '';
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  // API Gateway turns the result's `cookies` into one Set-Cookie header each.
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

interface ServeContext {
  routes: Array<RouteSpec & { fn: FunctionName; handler: HttpHandler }>;
  simulator: WhatsAppSimulator | undefined;
  /** QR mode's phone (`/simulator/phone/*`), whenever the simulated engine is the QR engine. */
  phone: SimulatorPart | undefined;
  limits: RequestLimits;
  hosts: HostAllowlist;
  gate: ReturnType<typeof createInFlightGate>;
  isReady: () => boolean;
  onError: (what: string, error: unknown) => void;
}

function findRoute(routes: ServeContext['routes'], method: string | undefined, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return undefined;
}

/**
 * One request, through the guards API Gateway would apply (Host, requests in flight, time, credentials
 * before the body, body size), then the simulator (to loopback callers only) or a route's function.
 */
async function serveRequest(req: IncomingMessage, res: ServerResponse, context: ServeContext): Promise<void> {
  try {
    const refusal = hostRefusal(req, context.hosts) ?? context.gate.enter(res);
    if (refusal) return refuse(res, refusal);
    startDeadline(req, res, context.limits.timeoutMs);
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/health' && !context.isReady()) return send(res, starting);
    // The topology's routes first (none lies under the simulator's /simulator and /graph), so a
    // webhook delivery never waits on the simulator's parts.
    const match = findRoute(context.routes, req.method, path);
    // Not through a tunnel or another allowed name: the page carries the token that signs webhooks.
    const { simulator, phone } = context;
    if (!match && isDirectLoopbackRequest(req, context.hosts)) {
      if (phone && (await phone(req, res))) return;
      if (simulator && (await simulator.handle(req, res))) return;
    }
    if (!match) {
      return send(res, {
        statusCode: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"error":"not_found"}',
      });
    }
    const missingCredentials = credentialsRefusal(match.route.auth, req);
    if (missingCredentials) return refuse(res, missingCredentials);
    const body = await readLimitedBody(req, context.limits.maxBodyBytes);
    const event = apiGatewayEvent(req, body, {
      routeKey: `${match.route.method} ${match.route.path}`,
      pathParameters: match.params,
    });
    try {
      send(res, await match.route.handler(event));
    } catch (error) {
      // The function failed (threw, timed out, its isolate died): API Gateway answers 500.
      context.onError(match.route.fn, error);
      throw error;
    }
  } catch (error) {
    if (error instanceof Refusal) refuse(res, error);
    else if (!res.headersSent)
      send(res, { statusCode: 500, body: JSON.stringify({ error: 'local_stack_error' }) });
    else res.destroy();
  }
}

const starting: APIGatewayProxyStructuredResultV2 = {
  statusCode: 503,
  headers: { 'content-type': 'application/json', 'retry-after': '1' },
  body: '{"status":"starting"}',
};

/** Marks a data directory whose demo tenant is on the fake number (so it is never moved again). */
interface StackMarker {
  demo_phone_number_id: string;
  demo_client_id?: string;
}

function readMarker(dataDir: string | undefined): StackMarker | undefined {
  const file = dataDir ? join(dataDir, 'local-stack.json') : undefined;
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackMarker) : undefined;
}

function writeMarker(dataDir: string | undefined, marker: StackMarker): void {
  if (dataDir) writeFileSync(join(dataDir, 'local-stack.json'), `${JSON.stringify(marker, null, 2)}\n`);
}

/**
 * The demo tenant on its fake number: found there, or moved there from the number it held before
 * (a data directory of an older run), or created. Moving happens only in a data directory older than
 * the marker file, so a La Plaza the operator created on the seed's number later is never touched.
 */
async function ensureDemoTenant(options: {
  clients: ClientRepository;
  invokeAdmin: HttpHandler;
  operatorKey: string;
  dataDir: string | undefined;
  olderDataDir: boolean;
}): Promise<string> {
  const { clients, dataDir } = options;
  const call = async (method: 'POST' | 'PATCH', path: string, body: unknown) =>
    options.invokeAdmin(
      httpApiEvent({
        method,
        path,
        headers: { authorization: `Bearer ${options.operatorKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        ...(method === 'PATCH'
          ? { routeKey: 'PATCH /clients/{id}', pathParameters: { id: path.split('/')[2]! } }
          : {}),
      }),
    );
  const done = (id: string) => {
    writeMarker(dataDir, { demo_phone_number_id: DEMO_PHONE_NUMBER_ID, demo_client_id: id });
    return id;
  };
  const current = await clients.findRoute(DEMO_PHONE_NUMBER_ID);
  if (current) return done(current.client_id);
  const legacy =
    options.olderDataDir && !readMarker(dataDir)
      ? await clients.findRoute(LEGACY_DEMO_PHONE_NUMBER_ID)
      : undefined;
  const legacyClient = legacy ? await clients.get(legacy.client_id) : undefined;
  if (legacyClient && legacyClient.name === demoClient.name) {
    const moved = await call('PATCH', `/clients/${legacyClient.id}`, {
      phone_number: demoClient.phone_number,
      phone_number_id: demoClient.phone_number_id,
    });
    if (moved.statusCode !== 200)
      throw new Error(`could not move the demo tenant to its number: ${moved.body}`);
    return done(legacyClient.id);
  }
  const created = await call('POST', '/clients', demoClient);
  if (created.statusCode !== 201) throw new Error(`could not seed the demo tenant: ${created.body}`);
  return done((JSON.parse(created.body ?? '{}') as { id: string }).id);
}

/**
 * Starts every emulator not given, side by side. DynamoDB Local boots slowest (a JVM): its port is
 * chosen first and its readiness awaited later, so the functions load meanwhile. Each emulator's stop
 * joins `stoppers` once it runs; `pending` holds the starts still under way (awaited before a cleanup).
 */
async function startEmulators(
  options: LocalStackOptions,
  dataDir: string | undefined,
  stoppers: Array<() => Promise<void>>,
  pending: Array<Promise<unknown>>,
) {
  const started = <T extends RunningEmulator>(start: Promise<T>) => {
    const running = start.then((emulator) => {
      stoppers.push(emulator.stop);
      return emulator;
    });
    pending.push(running.catch(() => undefined));
    return running;
  };
  const dynamoPort = options.dynamoEndpoint ? undefined : await freePort();
  const dynamo = dynamoPort
    ? started(
        startDynamoDb({ port: dynamoPort, ...(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {}) }).then(
          (emulator) => {
            // Its load is the consumers' (the webhook's route lookups are cached): below the webhook too.
            if (options.lowPriorityConsumers) lowerChildProcess(`-port ${dynamoPort}`, BACKGROUND_NICE);
            return emulator;
          },
        ),
      )
    : undefined;
  dynamo?.catch(() => undefined); // awaited through dynamoReady
  const [sqs, ses] = await Promise.all([
    options.sqsEndpoint ? undefined : started(startEmulatorThread('sqs-s3')),
    options.withSes === false ? undefined : started(startEmulatorThread('ses')),
  ]);
  return {
    dynamoEndpoint: options.dynamoEndpoint ?? `http://127.0.0.1:${dynamoPort}`,
    dynamoReady: dynamo ? dynamo.then(() => undefined) : Promise.resolve(),
    sqsEndpoint: options.sqsEndpoint ?? sqs!.endpoint,
    ses,
  };
}

/** The isolates of a function: the stack's settings, the options' overrides, the topology's cap. */
function isolateSettings(name: FunctionName, spec: FunctionSpec, overrides?: Partial<IsolateSettings>) {
  const settings = { ...localIsolates[name], ...overrides };
  const perIsolate = Math.max(1, Math.min(settings.invocationsPerIsolate, spec.maxConcurrency ?? Infinity));
  const isolates = Math.max(
    1,
    Math.min(settings.isolates, Math.ceil((spec.maxConcurrency ?? Infinity) / perIsolate)),
  );
  return { maxIsolates: isolates, invocationsPerIsolate: perIsolate };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const pick = (name: string) => options.env?.[name] ?? process.env[name];
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const secrets = localSecrets(dataDir);
  const stoppers: Array<() => Promise<void>> = [];
  const pending: Array<Promise<unknown>> = [];
  const stopAll = async () => {
    await Promise.all(pending.splice(0));
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
  };
  const reportError = (what: string, error: unknown) =>
    process.stderr.write(
      `local stack: ${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );

  try {
    // 1. The HTTP server, listening with its handler attached: until the stack is ready every request
    //    (a /health probe included) is answered 503, none is left hanging.
    const limits: RequestLimits = { ...apiGatewayLimits, ...options.limits };
    let context: ServeContext | undefined;
    const server: Server = createServer(serverTimeouts(limits), (req, res) => {
      if (context) void serveRequest(req, res, context);
      else send(res, starting);
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? Number(pick('PORT') ?? 3000), '127.0.0.1', () => resolveListen());
    });
    stoppers.push(
      () =>
        new Promise<void>((resolveClose) => {
          server.closeAllConnections();
          server.close(() => resolveClose());
        }),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `http://127.0.0.1:${port}`;

    // 2. Emulators: DynamoDB Local (its own process), fauxqs and SES (threads of their own).
    const { dynamoEndpoint, dynamoReady, sqsEndpoint, ses } = await startEmulators(
      options,
      dataDir,
      stoppers,
      pending,
    );

    // 3. The environment the handlers read (the same names the CDK stack sets in AWS).
    const prefix = options.namePrefix ?? 'wa-local';
    const tableName = `${prefix}-table`;
    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_S3: sqsEndpoint,
      ...(ses ? { AWS_ENDPOINT_URL_SESV2: ses.endpoint } : {}),
      TABLE_NAME: tableName,
      OPERATOR_API_KEY: pick('OPERATOR_API_KEY') ?? secrets.OPERATOR_API_KEY,
      META_APP_SECRET: pick('META_APP_SECRET') ?? secrets.META_APP_SECRET,
      META_VERIFY_TOKEN: pick('META_VERIFY_TOKEN') ?? secrets.META_VERIFY_TOKEN,
      LOCAL_SECRETS_KEY: pick('LOCAL_SECRETS_KEY') ?? secrets.LOCAL_SECRETS_KEY,
      GRAPH_API_BASE_URL: pick('GRAPH_API_BASE_URL') ?? `${url}/graph`,
      GRAPH_API_VERSION: pick('GRAPH_API_VERSION') ?? 'v26.0',
      WHATSAPP_ACCESS_TOKEN: pick('WHATSAPP_ACCESS_TOKEN') ?? 'local-simulator-token',
      // The simulator's app, so the connection test's debug_token check runs against it.
      ...(pick('GRAPH_API_BASE_URL') ? {} : { META_APP_ID: SIMULATOR_APP.id }),
      PUBLIC_BASE_URL: pick('PUBLIC_BASE_URL') ?? url,
      // Invitations land in the SES emulator's inbox, from this sender.
      SES_FROM_ADDRESS: pick('SES_FROM_ADDRESS') ?? 'invitations@wa-assistant.local',
      POWERTOOLS_LOG_LEVEL: pick('POWERTOOLS_LOG_LEVEL') ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: pick('POWERTOOLS_METRICS_DISABLED') ?? 'true',
    };
    const passThrough = [
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      'OPENAI_MODEL',
      'OPENAI_TIMEOUT_MS',
      'OPENAI_RETRIES',
      'OPENAI_BACKOFF_MS',
      'OPENAI_TRANSCRIPTION_MODEL',
      'OPENAI_IMAGE_DETAIL',
      'RETENTION_HOURS',
      'CLAIM_LEASE_MS',
      'META_APP_ID',
    ];
    for (const name of passThrough) {
      const value = pick(name);
      if (value) env[name] = value;
    }
    // Kept for code of this process that reads the environment (the SDK's credentials, for one); the
    // functions get theirs when their isolates are created.
    Object.assign(process.env, env);
    const clientsAws = createAwsClients(env);
    const endpoints = endpointsOf(env);
    // This thread's requests: the pollers' (Lambda's event source mappings) and the stack's own.
    const ownRequests = countAwsRequests(endpoints);
    const mainRequests: RequestCounts = {};
    stoppers.push(async () => ownRequests.stop());
    env.MEDIA_BUCKET_NAME = `${prefix}-media`.toLowerCase();
    await ensureBucket(clientsAws.s3, env.MEDIA_BUCKET_NAME);
    const queueInfo: Record<string, { url: string; arn: string }> = {};
    for (const [key, spec] of Object.entries(queues)) {
      queueInfo[key] = await createQueue(clientsAws.sqs, `${prefix}-${spec.name}`, spec);
      env[spec.urlEnv] = queueInfo[key].url;
    }
    const qr = await prepareLocalQrMode({
      aws: clientsAws,
      prefix,
      tableName,
      inboundQueueUrl: () => env.INBOUND_QUEUE_URL!,
      mediaBucket: env.MEDIA_BUCKET_NAME,
      engine: pick('QR_ENGINE') === 'wwebjs' ? 'wwebjs' : 'simulated',
      shards: Number(pick('LOCAL_QR_SHARDS') ?? 1),
      chromiumPath: pick('CHROMIUM_PATH') ?? '/usr/bin/chromium',
      profileDir: resolve(dataDir ?? tmpdir(), 'qr-profiles'),
    });
    Object.assign(env, qr.env);
    Object.assign(process.env, env);

    // 4. The functions, each in isolates of its own created with this environment. Those that serve
    //    requests or consume queues get one warm isolate now; more start (cold) as traffic needs them.
    const isolateEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env))
      if (value !== undefined) isolateEnv[name] = value;
    Object.assign(isolateEnv, env);
    const pools = {} as Record<FunctionName, FunctionPool>;
    const specs = Object.entries(functions) as Array<[FunctionName, FunctionSpec]>;
    const bundles = await functionBundles(specs.map(([, spec]) => spec.entry));
    for (const [name, spec] of specs) {
      const background = options.lowPriorityConsumers === true && !spec.routes;
      pools[name] = new FunctionPool({
        functionName: name,
        entryUrl: bundles[spec.entry]!,
        env: isolateEnv,
        ...isolateSettings(name, spec, options.isolates?.[name]),
        timeoutMs: spec.timeoutSeconds * 1000,
        memoryMb: spec.memoryMb,
        endpoints,
        ...(background ? { nice: BACKGROUND_NICE } : {}),
      });
    }
    stoppers.push(async () => {
      await Promise.all(Object.values(pools).map((pool) => pool.stop()));
    });
    const warm = Promise.all(
      specs.map(([name, spec]) =>
        pools[name].provision(options.provisioned?.[name] ?? (spec.routes || spec.consumes ? 1 : 0)),
      ),
    );
    pending.push(warm.catch(() => undefined));
    await dynamoReady;
    await ensureTable(clientsAws.dynamoBase, tableName);
    await warm;
    const invoke = (name: FunctionName) => (event: unknown) => pools[name].invoke(event);
    const routes = allRoutes().map((route) => ({ ...route, handler: invoke(route.fn) as HttpHandler }));

    const clients = new ClientRepository(clientsAws.dynamo, tableName);
    // With a real Graph server the App Secret is the real one too: nothing may sign webhooks with it.
    const simulator = isLoopbackUrl(env.GRAPH_API_BASE_URL!)
      ? createWhatsAppSimulator({
          appSecret: env.META_APP_SECRET!,
          // The Graph reads (a connection test) take it, as they take Meta-shaped tokens; others are 190.
          platformAccessToken: env.WHATSAPP_ACCESS_TOKEN!,
          webhookUrl: `${url}/webhook`,
          listBusinesses: async () =>
            (await clients.list({ activeOnly: true })).map((c) => ({
              phoneNumberId: c.phone_number_id,
              name: c.name,
            })),
        })
      : undefined;
    if (simulator && dataDir) {
      // For `npm run simulate` (the chat page has it embedded); removed on stop.
      const removeToken = writeSimulatorToken(dataDir, simulator.apiToken);
      stoppers.push(async () => removeToken());
    }

    let ready = false;
    context = {
      routes,
      simulator,
      phone: qr.phone,
      limits,
      hosts: createHostAllowlist(port, pick('LOCAL_ALLOWED_HOSTS')),
      gate: createInFlightGate(limits.maxInFlight),
      isReady: () => ready,
      onError: reportError,
    };

    // 5. Pollers feeding the consumers, as Lambda's event source mappings do: as many batches in
    //    flight as the function may have isolates.
    const pollers: QueuePoller[] = [];
    for (const [name, spec] of Object.entries(functions) as Array<[FunctionName, FunctionSpec]>) {
      if (!spec.consumes) continue;
      const queue = queueInfo[spec.consumes]!;
      pollers.push(
        startQueuePoller({
          sqs: clientsAws.sqs,
          queueUrl: queue.url,
          queueArn: queue.arn,
          handler: invoke(name) as never,
          batchSize: spec.batchSize ?? 10,
          concurrency: pools[name].concurrency,
          retryDelaySeconds: options.retryDelaySeconds ?? 2,
          onError: (error) => reportError(name, error),
        }),
      );
    }
    stoppers.push(async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    });

    // 6. Schedules (EventBridge Scheduler in AWS).
    for (const [name, spec] of Object.entries(functions) as Array<[FunctionName, FunctionSpec]>) {
      if (!spec.schedule) continue;
      const override = Number(pick('LOCAL_SCHEDULE_INTERVAL_MS') ?? 0);
      const schedule = startSchedule(
        override > 0 ? override : rateToMs(spec.schedule.expression),
        () => pools[name].invoke({ source: 'local-schedule' }),
        (error) => reportError(`scheduled ${name}`, error),
      );
      stoppers.push(schedule.stop);
    }

    // 7. The QR runner (ECS in AWS), once the table and the queues exist.
    const qrRunner = await qr.start();
    stoppers.push(qr.stop);

    // 8. The demo tenant, on its fake number (DEMO_TENANT=off: none).
    let demoClientId: string | undefined;
    if (options.seedDemo !== false && demoTenantWanted(pick('DEMO_TENANT'))) {
      demoClientId = await ensureDemoTenant({
        clients,
        invokeAdmin: invoke('adminApi') as HttpHandler,
        operatorKey: env.OPERATOR_API_KEY!,
        dataDir,
        olderDataDir: secrets.existed,
      });
    } else if (!readMarker(dataDir)) {
      writeMarker(dataDir, { demo_phone_number_id: DEMO_PHONE_NUMBER_ID });
    }
    // Clients of a data directory older than landing pages get their slug lookup (idempotent).
    if (secrets.existed) {
      for (const client of await clients.list({ activeOnly: false })) await clients.ensureSlugLookup(client);
    }
    ready = true;

    return {
      url,
      operatorKey: env.OPERATOR_API_KEY!,
      appSecret: env.META_APP_SECRET!,
      verifyToken: env.META_VERIFY_TOKEN!,
      ...(demoClientId ? { demoClientId, demo: { ...demoClient, id: demoClientId } } : {}),
      env,
      simulator,
      qr: { engine: qr.engine, runner: qrRunner, ...(qr.whatsapp ? { whatsapp: qr.whatsapp } : {}) },
      ...(ses ? { sesUrl: ses.endpoint } : {}),
      async drained(timeoutMs) {
        await Promise.all(pollers.map((p) => p.drained(timeoutMs)));
      },
      async usage() {
        addCounts(mainRequests, ownRequests.take());
        const entries = await Promise.all(
          Object.entries(pools).map(async ([name, pool]) => [
            name,
            structuredClone(await pool.refreshUsage()),
          ]),
        );
        const usage = Object.fromEntries(entries) as Record<FunctionName, FunctionUsage>;
        const requests = addCounts({ ...mainRequests }, {});
        for (const functionUsage of Object.values(usage)) addCounts(requests, functionUsage.requests);
        return { functions: usage, requests };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
