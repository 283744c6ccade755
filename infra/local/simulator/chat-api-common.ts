import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { sendJson } from './http.ts';

/** What the chat API's routes share (chat-api.ts, chat-api-media.ts): the customer's fields and the CSRF guard. */

export const phoneNumberIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a phone_number_id');
export const waIdSchema = z
  .string()
  .regex(/^\d{6,20}$/, 'must be a phone number in international format, digits only');
export const userIdSchema = z
  .string()
  .regex(/^[A-Z]{2}\.[A-Za-z0-9]{1,64}$/, 'must look like ES.1349120865530274');
export const customerNameSchema = z.string().trim().min(1).max(100);

/** No Origin (curl, `npm run simulate`) or one whose host is ours (the chat page). */
export function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The routes that sign with the App Secret: only the chat page (same origin, JSON) may call them,
 * not a form or script on another site the developer happens to open. Answers 403 and returns
 * false otherwise.
 */
export function acceptsSameOriginJson(req: IncomingMessage, res: ServerResponse): boolean {
  const sameOrigin = isSameOrigin(req.headers.origin, req.headers.host);
  if (sameOrigin && (req.headers['content-type'] ?? '').startsWith('application/json')) return true;
  sendJson(res, 403, { error: 'forbidden', message: 'same-origin JSON requests only' });
  return false;
}
