import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';

/** Small HTTP helpers the simulator's parts share. */

export const MAX_JSON_BODY = 256 * 1024;

/** A request body that is too large, empty or not JSON; each part maps it to its own error shape. */
export class BodyError extends Error {}

export async function readJson(req: IncomingMessage, maxBytes = MAX_JSON_BODY): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw new BodyError('The request body is too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) throw new BodyError('The request body is empty');
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError('The request body is not valid JSON');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** The request's path and query (the host is irrelevant: parts route on the path only). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://simulator.local');
}

/** Whether `path` is `prefix` or below it. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
