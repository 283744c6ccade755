import * as z from 'zod/mini';

/**
 * What the platform asks of a QR runner, through the command queue of the tenant's shard (one SQS
 * standard queue per shard). Each command has an id (the runner's deduplication key and, for a
 * `send`, the outbound message's id) and an expiry: a command found after `expires_at` is dropped
 * (a `send` is then recorded as failed), never acted on late.
 *
 * - `send`: a text to a customer of the tenant's linked account (only while connected; else it waits
 *   in the queue until it expires). The outcome goes back as a `status` event on the inbound queue
 *   (`message_id` = the command id; `sent` or `failed`), so the spine records it like Meta's.
 * - `start`: open (or reopen after `qr_expired` / `logged_out` / `failed`) the tenant's session.
 * - `unlink`: log the account out and delete its stored session (the tenant's "unlink").
 * - `stop`: the tenant left QR mode: close the session and delete its stored session.
 */
const base = {
  v: z.literal(1),
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  tenant_id: z.string().check(z.minLength(1)),
  /** ISO 8601. */
  expires_at: z.string().check(z.minLength(1)),
};

export const sendCommandSchema = z.object({
  ...base,
  kind: z.literal('send'),
  /** The customer: a number (digits, no `+`). */
  to: z.string().check(z.minLength(1)),
  text: z.string().check(z.minLength(1), z.maxLength(4096)),
  /** The engine id of the customer's message to quote. */
  reply_to: z.optional(z.string()),
});

export const sessionCommandSchema = z.object({
  ...base,
  kind: z.enum(['start', 'unlink', 'stop']),
});

export const qrCommandSchema = z.discriminatedUnion('kind', [sendCommandSchema, sessionCommandSchema]);

export type QrSendCommand = z.infer<typeof sendCommandSchema>;
export type QrSessionCommand = z.infer<typeof sessionCommandSchema>;
export type QrCommand = z.infer<typeof qrCommandSchema>;

/** How long a command is worth acting on unless its sender says otherwise. */
export const DEFAULT_COMMAND_TTL_MS = 10 * 60_000;

/** Puts commands on a shard's command queue (the SQS adapter: command-queue.ts). */
export interface QrCommandQueue {
  send(shard: string, command: QrCommand): Promise<void>;
}
