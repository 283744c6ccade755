import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';

/**
 * Builds the events AWS would hand the functions, so the local stack runs the very same handlers:
 * API Gateway HTTP API (payload v2) events from node requests and SQS events from received messages.
 */

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded)|text\/)/;

export interface HttpRequestParts {
  method: string;
  path: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: Buffer | string;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  sourceIp?: string;
}

/** An API Gateway HTTP API (payload v2) event for a request, as AWS would pass it to a handler. */
export function httpApiEvent(request: HttpRequestParts): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  const query = request.query ?? {};
  const body =
    typeof request.body === 'string' ? Buffer.from(request.body) : (request.body ?? Buffer.alloc(0));
  // API Gateway base64-encodes bodies that are not text; the handlers must decode them.
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const routeKey = request.routeKey ?? `${request.method} ${request.path}`;
  const pathParameters = request.pathParameters ?? {};
  // API Gateway moves the Cookie header into `cookies` (one entry per cookie).
  const cookies = (headers.cookie ?? '')
    .split(';')
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie.length > 0);
  delete headers.cookie;
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: request.path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** The event for a request that reached the local stack's HTTP server. */
export function apiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  match: { routeKey: string; pathParameters: Record<string, string> },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] ? `${query[name]},${value}` : value;
  return httpApiEvent({
    method: req.method ?? 'GET',
    path: url.pathname,
    headers,
    query,
    body,
    routeKey: match.routeKey,
    pathParameters: match.pathParameters,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
}

export function sqsEvent(messages: Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? randomUUID(),
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp:
          message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(message.Attributes?.MessageGroupId ? { MessageGroupId: message.Attributes.MessageGroupId } : {}),
        ...(message.Attributes?.MessageDeduplicationId
          ? { MessageDeduplicationId: message.Attributes.MessageDeduplicationId }
          : {}),
        ...(message.Attributes?.SequenceNumber ? { SequenceNumber: message.Attributes.SequenceNumber } : {}),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    })),
  };
}

/** Matches a request path against a route template such as /clients/{id}. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = template.replace(/\{(\w+)\+?\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const match = new RegExp(`^${pattern}/?$`).exec(path);
  if (!match) return undefined;
  return Object.fromEntries(names.map((name, i) => [name, match[i + 1]!]));
}
