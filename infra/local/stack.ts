import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { createAwsClients } from '../../lib/aws-clients.ts';
import { ensureTable } from '../../lib/storage/table.ts';
import { ClientRepository } from '../../lib/tenants/client-repository.ts';
import { allRoutes, type FunctionName, functions, type QueueSpec, queues } from '../topology.ts';
import { type RunningEmulator, startDynamoDb, startSes, startSqsAndS3 } from './emulators.ts';
import { apiGatewayEvent, httpApiEvent, matchPath } from './lambda-events.ts';
import { type QueuePoller, startQueuePoller } from './queue-poller.ts';
import { rateToMs, startSchedule } from './schedules.ts';
import { createWhatsAppSimulator } from './whatsapp-simulator.ts';

/**
 * The whole product on one machine: emulators, the HTTP routes served by the very Lambda handlers,
 * SQS pollers feeding the consumers, and the built-in WhatsApp simulator (Graph API stand-in and a
 * chat page). `npm start` runs it (see main.ts); the end-to-end tests start it in-process.
 */

export interface LocalStackOptions {
  port?: number;
  dataDir?: string;
  /** Environment contract overrides (DESIGN §5); unset names fall back to process.env, then defaults. */
  env?: Record<string, string | undefined>;
  seedDemo?: boolean;
  /** Reuse running emulators (tests share one DynamoDB Local and one fauxqs). */
  dynamoEndpoint?: string;
  sqsEndpoint?: string;
  /** Distinguishes the table and queues of stacks sharing emulators. */
  namePrefix?: string;
  /** Seconds before a failed queue message is tried again locally. */
  retryDelaySeconds?: number;
  withSes?: boolean;
}

export interface LocalStack {
  url: string;
  operatorKey: string;
  appSecret: string;
  verifyToken: string;
  demoClientId?: string;
  env: Record<string, string>;
  simulator: ReturnType<typeof createWhatsAppSimulator>;
  sesUrl?: string;
  /** Waits until every queue is empty and no batch is in flight. */
  drained(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/** The demo tenant of seed 003 (Restaurante La Plaza). */
export const demoClient = {
  name: 'Restaurante La Plaza',
  phone_number: '+34666777888',
  phone_number_id: '631261586727899',
  faqs: [
    {
      q: '¿Cuál es vuestro horario?',
      a: 'Abrimos de lunes a viernes de 9:00 a 22:00, y sábados de 10:00 a 23:00',
    },
    { q: '¿Hacéis reservas?', a: 'Sí, puedes reservar llamando al +34666777888 o a través de nuestra web' },
    {
      q: '¿Tenéis menú del día?',
      a: 'Sí, nuestro menú del día cuesta 12€ e incluye primer plato, segundo, postre y bebida',
    },
  ],
  welcome_message: '¡Hola! Soy el asistente virtual del Restaurante La Plaza. ¿En qué puedo ayudarte?',
  business_hours: 'L-V: 9:00-22:00, S: 10:00-23:00',
};

interface LocalSecrets {
  OPERATOR_API_KEY: string;
  META_APP_SECRET: string;
  META_VERIFY_TOKEN: string;
  LOCAL_SECRETS_KEY: string;
}

/** Generated once per data directory and kept there, so keys and encrypted tenant secrets survive restarts. */
function localSecrets(dataDir: string | undefined): LocalSecrets {
  const file = dataDir ? join(dataDir, 'local-secrets.json') : undefined;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  const secrets: LocalSecrets = {
    OPERATOR_API_KEY: `op_${randomBytes(24).toString('base64url')}`,
    META_APP_SECRET: randomBytes(24).toString('hex'),
    META_VERIFY_TOKEN: `verify_${randomBytes(12).toString('base64url')}`,
    LOCAL_SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  if (file) writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
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

async function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2) {
  const body = result.body ?? '';
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const pick = (name: string) => options.env?.[name] ?? process.env[name];
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const secrets = localSecrets(dataDir);
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };

  try {
    // 1. Emulators.
    let dynamoEndpoint = options.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const dynamo = await startDynamoDb(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {});
      stoppers.push(dynamo.stop);
      dynamoEndpoint = dynamo.endpoint;
    }
    let sqsEndpoint = options.sqsEndpoint;
    if (!sqsEndpoint) {
      const fauxqs = await startSqsAndS3();
      stoppers.push(fauxqs.stop);
      sqsEndpoint = fauxqs.endpoint;
    }
    let ses: RunningEmulator | undefined;
    if (options.withSes !== false) {
      ses = await startSes();
      stoppers.push(ses.stop);
    }

    // 2. HTTP server first (its port goes into the Graph URL of the simulator).
    const server: Server = createServer();
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
      PUBLIC_BASE_URL: url,
      POWERTOOLS_LOG_LEVEL: pick('POWERTOOLS_LOG_LEVEL') ?? 'WARN',
    };
    const passThrough = [
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      'OPENAI_MODEL',
      'OPENAI_TIMEOUT_MS',
      'OPENAI_RETRIES',
      'OPENAI_BACKOFF_MS',
      'RETENTION_HOURS',
      'CLAIM_LEASE_MS',
    ];
    for (const name of passThrough) {
      const value = pick(name);
      if (value) env[name] = value;
    }
    Object.assign(process.env, env);
    const clientsAws = createAwsClients(env);
    await ensureTable(clientsAws.dynamoBase, tableName);
    env.MEDIA_BUCKET_NAME = `${prefix}-media`.toLowerCase();
    await clientsAws.s3
      .send(new CreateBucketCommand({ Bucket: env.MEDIA_BUCKET_NAME }))
      .catch((error: unknown) => {
        if (!/BucketAlready/.test((error as { name?: string }).name ?? '')) throw error;
      });
    const queueInfo: Record<string, { url: string; arn: string }> = {};
    for (const [key, spec] of Object.entries(queues)) {
      queueInfo[key] = await createQueue(clientsAws.sqs, `${prefix}-${spec.name}`, spec);
      env[spec.urlEnv] = queueInfo[key].url;
    }
    Object.assign(process.env, env);

    // 4. The handlers, imported after the environment is set (they read it once, like a cold start).
    const modules: Record<FunctionName, { handler: unknown }> = {
      webhook: await import('../../functions/webhook.ts'),
      adminApi: await import('../../functions/admin-api.ts'),
      assistant: await import('../../functions/assistant.ts'),
      provisioner: await import('../../functions/provisioner.ts'),
      purge: await import('../../functions/purge.ts'),
    };
    const routes = allRoutes().map((route) => ({
      ...route,
      handler: modules[route.fn].handler as HttpHandler,
    }));

    const clients = new ClientRepository(clientsAws.dynamo, tableName);
    const simulator = createWhatsAppSimulator({
      appSecret: env.META_APP_SECRET!,
      webhookUrl: `${url}/webhook`,
      listBusinesses: async () =>
        (await clients.list({ activeOnly: true })).map((c) => ({
          phoneNumberId: c.phone_number_id,
          name: c.name,
        })),
    });

    let ready = false;
    server.on('request', (req, res) => {
      void (async () => {
        try {
          const path = new URL(req.url ?? '/', 'http://local').pathname;
          if (path === '/health' && !ready)
            return send(res, { statusCode: 503, body: '{"status":"starting"}' });
          if (await simulator.handle(req, res)) return;
          for (const route of routes) {
            if (route.method !== req.method) continue;
            const params = matchPath(route.path, path);
            if (!params) continue;
            const body = await readBody(req);
            const event = apiGatewayEvent(req, body, {
              routeKey: `${route.method} ${route.path}`,
              pathParameters: params,
            });
            return send(res, await route.handler(event));
          }
          send(res, {
            statusCode: 404,
            headers: { 'content-type': 'application/json' },
            body: '{"error":"not_found"}',
          });
        } catch (error) {
          const status = (error as { status?: number }).status ?? 500;
          if (!res.headersSent)
            send(res, { statusCode: status, body: JSON.stringify({ error: 'local_stack_error' }) });
          else res.destroy();
        }
      })();
    });

    // 5. Pollers feeding the consumers, as Lambda's event source mappings do.
    const pollers: QueuePoller[] = [];
    for (const [name, spec] of Object.entries(functions)) {
      if (!('consumes' in spec)) continue;
      const queue = queueInfo[spec.consumes]!;
      pollers.push(
        startQueuePoller({
          sqs: clientsAws.sqs,
          queueUrl: queue.url,
          queueArn: queue.arn,
          handler: modules[name as FunctionName].handler as QueueHandler,
          batchSize: spec.batchSize,
          retryDelaySeconds: options.retryDelaySeconds ?? 2,
        }),
      );
    }
    stoppers.push(async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    });

    // 6. Schedules (EventBridge Scheduler in AWS).
    for (const [name, spec] of Object.entries(functions)) {
      if (!('schedule' in spec)) continue;
      const override = Number(pick('LOCAL_SCHEDULE_INTERVAL_MS') ?? 0);
      const schedule = startSchedule(
        override > 0 ? override : rateToMs(spec.schedule.expression),
        () =>
          (modules[name as FunctionName].handler as (event: unknown) => Promise<unknown>)({
            source: 'local-schedule',
          }),
        (error) => process.stderr.write(`scheduled ${name} failed: ${String(error)}\n`),
      );
      stoppers.push(schedule.stop);
    }

    // 7. The demo tenant, on first start.
    let demoClientId: string | undefined;
    if (options.seedDemo !== false) {
      const route = await clients.findRoute(demoClient.phone_number_id);
      if (route) demoClientId = route.client_id;
      else {
        const created = await (modules.adminApi.handler as HttpHandler)(
          httpApiEvent({
            method: 'POST',
            path: '/clients',
            headers: { authorization: `Bearer ${env.OPERATOR_API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify(demoClient),
          }),
        );
        if (created.statusCode !== 201) throw new Error(`could not seed the demo tenant: ${created.body}`);
        demoClientId = (JSON.parse(created.body ?? '{}') as { id: string }).id;
      }
    }
    ready = true;

    return {
      url,
      operatorKey: env.OPERATOR_API_KEY!,
      appSecret: env.META_APP_SECRET!,
      verifyToken: env.META_VERIFY_TOKEN!,
      ...(demoClientId ? { demoClientId } : {}),
      env,
      simulator,
      ...(ses ? { sesUrl: ses.endpoint } : {}),
      async drained(timeoutMs) {
        await Promise.all(pollers.map((p) => p.drained(timeoutMs)));
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
