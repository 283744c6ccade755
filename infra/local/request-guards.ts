import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { RouteSpec } from '../../lib/topology.ts';
import type { HostAllowlist } from './host-allowlist.ts';

/**
 * What API Gateway does before a Lambda function sees a request, done by the local HTTP server:
 * refuse names it does not serve, too many requests at once, missing credentials before reading a
 * body, bodies over 10 MB and requests over 30 s. Without these one client could fill the server's
 * memory with held uploads (50 of 4 MB took it from 213 to 445 MB).
 */

export interface RequestLimits {
  /** Requests handled at once; one more is refused (429), not queued. */
  maxInFlight: number;
  /** The largest body read (413 above it); API Gateway HTTP APIs take 10 MB. */
  maxBodyBytes: number;
  /** From a request's headers to its answer: 408 while the body arrives, 504 once it is handled. */
  timeoutMs: number;
}

/**
 * API Gateway HTTP API's payload limit and integration timeout, and a cap on requests in flight:
 * high enough for Meta's rate (1,000 deliveries/s at a few hundred ms each under load: 64 refused
 * most of a load run with 429), low enough that held uploads cannot exhaust memory; the server
 * listens on loopback only.
 */
export const apiGatewayLimits: RequestLimits = {
  maxInFlight: 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
};

/** An answer the local server gives itself instead of a handler's, with a reason. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Sends a refusal and closes the connection, so what was not read of the body stays unread (on a
 * kept-alive connection Node would read all of it first).
 */
export function refuse(res: ServerResponse, refusal: Refusal): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(refusal.status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'close',
    ...refusal.headers,
  });
  res.end(JSON.stringify({ error: refusal.code, message: refusal.message }));
}

/** Node's own timeouts as a backstop: slow headers never reach our handler, so only Node can cut them. */
export function serverTimeouts(limits: RequestLimits): ServerOptions {
  return {
    headersTimeout: limits.timeoutMs,
    requestTimeout: limits.timeoutMs * 2,
    connectionsCheckingInterval: Math.min(30_000, limits.timeoutMs),
  };
}

export function hostRefusal(req: IncomingMessage, hosts: HostAllowlist): Refusal | undefined {
  if (hosts.allows(req.headers.host)) return undefined;
  return new Refusal(
    403,
    'host_not_allowed',
    'this Host is not served here: use 127.0.0.1, localhost or [::1] with the port (the local stack also takes the names in LOCAL_ALLOWED_HOSTS)',
  );
}

/**
 * Refuses, before its body is read, a request that cannot pass its handler's credential check: no
 * bearer key, or a webhook delivery without a signature. Only the shape is looked at; the handler
 * still checks the key or the signature itself.
 */
export function credentialsRefusal(auth: RouteSpec['auth'], req: IncomingMessage): Refusal | undefined {
  // A bearer key, or the web pages' session cookie (the function checks either).
  const credentials =
    /^Bearer .*\S/i.test(req.headers.authorization ?? '') ||
    /(^|;\s*)wa_session=/.test(req.headers.cookie ?? '');
  if (auth === 'operator-key' && !credentials) {
    return new Refusal(401, 'unauthorized', 'missing or invalid operator key', {
      'www-authenticate': 'Bearer',
    });
  }
  if (auth === 'meta-signature' && req.method === 'POST' && !req.headers['x-hub-signature-256']) {
    return new Refusal(401, 'unauthorized', 'invalid or missing X-Hub-Signature-256');
  }
  return undefined;
}

/** Counts the requests being handled and refuses one over the cap. */
export function createInFlightGate(maxInFlight: number) {
  let inFlight = 0;
  return {
    /** Counts the request until its response closes, or says why it is refused. */
    enter(res: ServerResponse): Refusal | undefined {
      if (inFlight >= maxInFlight) {
        return new Refusal(
          429,
          'too_many_requests',
          `more than ${maxInFlight} requests in flight; retry shortly`,
          { 'retry-after': '1' },
        );
      }
      inFlight += 1;
      res.once('close', () => {
        inFlight -= 1;
      });
      return undefined;
    },
  };
}

/**
 * Answers a request still unanswered after `timeoutMs`: 408 if its body has not all arrived (a slow
 * client), 504 if a handler has it (whose late answer is then dropped, as API Gateway drops it).
 */
export function startDeadline(req: IncomingMessage, res: ServerResponse, timeoutMs: number): void {
  const timer = setTimeout(() => {
    refuse(
      res,
      req.complete
        ? new Refusal(504, 'gateway_timeout', `no answer within ${timeoutMs} ms`)
        : new Refusal(408, 'request_timeout', `the request did not arrive within ${timeoutMs} ms`),
    );
  }, timeoutMs);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}

/** Reads a body of at most `maxBytes`; a larger one is refused once announced or once seen. */
export async function readLimitedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new Refusal(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
