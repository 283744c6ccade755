import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Counts the HTTP requests this thread sends to the emulators, by service and operation
 * (`dynamodb.PutItem`, `sqs.ReceiveMessage`, `s3.PUT`): what the AWS bill is made of. It listens on
 * node:http's diagnostics channel, so it sees every attempt the SDK makes (retries included) without
 * touching the clients. Each isolate counts its own and reports to the main thread.
 */

export type RequestCounts = Record<string, number>;

/** Which service an endpoint (`host:port`) plays; SQS and S3 share fauxqs's endpoint. */
export type EmulatorEndpoints = Record<string, 'dynamodb' | 'sqs-s3'>;

export function endpointsOf(env: Record<string, string | undefined>): EmulatorEndpoints {
  const endpoints: EmulatorEndpoints = {};
  const add = (url: string | undefined, service: 'dynamodb' | 'sqs-s3') => {
    if (url) endpoints[new URL(url).host] = service;
  };
  add(env.AWS_ENDPOINT_URL_DYNAMODB, 'dynamodb');
  add(env.AWS_ENDPOINT_URL_SQS, 'sqs-s3');
  add(env.AWS_ENDPOINT_URL_S3, 'sqs-s3');
  return endpoints;
}

function operationOf(request: ClientRequest, service: 'dynamodb' | 'sqs-s3'): string {
  // JSON protocols name the operation in X-Amz-Target: `DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`.
  const target = request.getHeader('x-amz-target');
  const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : undefined;
  if (service === 'dynamodb') return `dynamodb.${operation ?? 'unknown'}`;
  return operation ? `sqs.${operation}` : `s3.${request.method}`;
}

export interface RequestCounter {
  /** Counts since the last call (or since the start), then starts again from zero. */
  take(): RequestCounts;
  stop(): void;
}

export function countAwsRequests(endpoints: EmulatorEndpoints): RequestCounter {
  let counts: RequestCounts = {};
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const host = request.getHeader('host');
    const service = typeof host === 'string' ? endpoints[host] : undefined;
    if (!service) return;
    const key = operationOf(request, service);
    counts[key] = (counts[key] ?? 0) + 1;
  };
  diagnostics.subscribe('http.client.request.start', onStart);
  return {
    take() {
      const taken = counts;
      counts = {};
      return taken;
    },
    stop() {
      diagnostics.unsubscribe('http.client.request.start', onStart);
    },
  };
}

export function addCounts(into: RequestCounts, more: RequestCounts): RequestCounts {
  for (const [key, value] of Object.entries(more)) into[key] = (into[key] ?? 0) + value;
  return into;
}
