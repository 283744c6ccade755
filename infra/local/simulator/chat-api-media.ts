import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { bareMimeType, MEDIA_LIMITS } from '../../../lib/media/media-kinds.ts';
import {
  acceptsSameOriginJson,
  customerNameSchema,
  phoneNumberIdSchema,
  userIdSchema,
  waIdSchema,
} from './chat-api-common.ts';
import { describeIssues, messageOf, readJson, sendJson } from './http.ts';
import { type CustomerMediaKind, deriveUserId } from './inbound-payloads.ts';
import type { SimulatorStore } from './store.ts';
import type { CustomerMediaInput } from './types.ts';

/**
 * The chat page's media routes: `POST /simulator/api/media` sends a file as the customer (JSON with
 * the bytes in base64, like the text route; Meta's size and MIME type limits per kind, a 4xx with
 * the reason otherwise), and `GET /simulator/api/media?id=` gives the page back the bytes of a media
 * it shows in the timeline (an <img> or <audio> of a blob: URL: the page's fetch carries the token).
 */

/** What a customer's phone sends for a voice note; Meta's webhook says so. */
export const VOICE_MIME_TYPE = 'audio/ogg; codecs=opus';
/** Meta's caption limit (images and documents). */
export const MAX_CAPTION = 1024;

const KINDS = ['audio', 'image', 'document'] as const satisfies readonly CustomerMediaKind[];
const MAX_MEDIA_BYTES = Math.max(...KINDS.map((kind) => MEDIA_LIMITS[kind].maxBytes));
/** The largest file in base64, and room for the other fields. */
const MAX_BODY_BYTES = Math.ceil(MAX_MEDIA_BYTES / 3) * 4 + 64 * 1024;

const mimeTypeSchema = z
  .string()
  .max(128)
  .regex(/^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*$/, 'must be a MIME type such as image/jpeg');

const postMediaSchema = z
  .object({
    phone_number_id: phoneNumberIdSchema,
    from: waIdSchema.optional(),
    user_id: userIdSchema.optional(),
    name: customerNameSchema.optional(),
    kind: z.enum(KINDS),
    mime_type: mimeTypeSchema,
    data: z
      .string()
      .min(1, 'data must not be empty')
      // One character class, not groups of four: a 100 MB file must not exhaust the regex's stack.
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'data must be base64')
      .refine((value) => value.length % 4 === 0, 'data must be base64 (padded to 4 characters)'),
    voice: z.boolean().optional(),
    caption: z.string().max(MAX_CAPTION, `caption must be at most ${MAX_CAPTION} characters`).optional(),
    filename: z
      .string()
      .min(1)
      .max(240)
      .regex(/^[^/\\\p{Cc}]+$/u, 'filename must be a file name, without folders')
      .optional(),
  })
  .strict()
  .refine((value) => value.from !== undefined || value.user_id !== undefined, 'from or user_id is required');

type PostMedia = z.infer<typeof postMediaSchema>;

export interface MediaRouteOptions {
  store: SimulatorStore;
  hasWebhook: () => boolean;
  sendMediaAsCustomer: (
    input: CustomerMediaInput,
  ) => Promise<{ status: number; messageId: string; mediaId: string }>;
}

/** A request WhatsApp would not let a customer send, with the status to answer it and why. */
interface Refusal {
  status: 400 | 413 | 415;
  error: string;
  message: string;
}

const invalid = (message: string): Refusal => ({ status: 400, error: 'validation_error', message });

/**
 * What WhatsApp's own client allows: audio and images of Meta's types only (it converts the rest),
 * any type as a document; each within its kind's size; a voice note is Ogg/Opus; captions on images
 * and documents, file names on documents. Returns the MIME type the webhook will carry.
 */
function checkMedia(input: PostMedia, size: number): Refusal | { mimeType: string } {
  const { kind } = input;
  const mimeType = bareMimeType(input.mime_type);
  if (size === 0) return invalid('the file is empty');
  const { maxBytes, mimeTypes } = MEDIA_LIMITS[kind];
  if (size > maxBytes) {
    return { status: 413, error: 'too_large', message: `WhatsApp takes ${kind} up to ${maxBytes} bytes` };
  }
  if (kind !== 'document' && !mimeTypes.includes(mimeType)) {
    return {
      status: 415,
      error: 'unsupported_media_type',
      message: `WhatsApp sends ${kind} as ${mimeTypes.join(', ')}; send a ${mimeType} file as a document`,
    };
  }
  if (input.voice !== undefined && kind !== 'audio') return invalid('voice is for audio only');
  if (input.voice && mimeType !== 'audio/ogg') return invalid('a voice note is audio/ogg (Opus)');
  if (input.caption !== undefined && kind === 'audio') return invalid('audio has no caption on WhatsApp');
  if (input.filename !== undefined && kind !== 'document') return invalid('filename is for documents only');
  return { mimeType: input.voice ? VOICE_MIME_TYPE : input.mime_type };
}

export async function postMedia(
  req: IncomingMessage,
  res: ServerResponse,
  options: MediaRouteOptions,
): Promise<void> {
  if (!acceptsSameOriginJson(req, res)) return;
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    sendJson(res, 413, {
      error: 'too_large',
      message: `WhatsApp takes files up to ${MAX_MEDIA_BYTES} bytes`,
    });
    return;
  }
  let body: unknown;
  try {
    body = await readJson(req, MAX_BODY_BYTES);
  } catch (error) {
    sendJson(res, 400, { error: 'validation_error', message: messageOf(error) });
    return;
  }
  const parsed = postMediaSchema.safeParse(body);
  if (!parsed.success) {
    sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
    return;
  }
  const input = parsed.data;
  const data = Buffer.from(input.data, 'base64');
  const checked = checkMedia(input, data.length);
  if ('status' in checked) {
    sendJson(res, checked.status, { error: checked.error, message: checked.message });
    return;
  }
  if (!options.hasWebhook()) {
    sendJson(res, 503, { error: 'no_webhook', message: 'the simulator has no webhook URL configured' });
    return;
  }
  // Like WhatsApp in 2026, every customer also has a business-scoped user id.
  const userId = input.user_id ?? (input.from ? deriveUserId(input.from) : undefined);
  try {
    const result = await options.sendMediaAsCustomer({
      phoneNumberId: input.phone_number_id,
      kind: input.kind,
      mimeType: checked.mimeType,
      data,
      ...(input.kind === 'audio' ? { voice: input.voice === true } : {}),
      ...(input.caption?.trim() ? { caption: input.caption } : {}),
      ...(input.filename !== undefined ? { filename: input.filename } : {}),
      ...(input.from ? { from: input.from } : {}),
      ...(userId ? { userId } : {}),
      ...(input.name ? { name: input.name } : {}),
      ...(req.headers.host ? { host: req.headers.host } : {}),
    });
    sendJson(res, 200, {
      message_id: result.messageId,
      media_id: result.mediaId,
      webhook_status: result.status,
    });
  } catch {
    sendJson(res, 502, { error: 'webhook_unreachable', message: 'the webhook did not answer' });
  }
}

const mediaQuerySchema = z.object({ id: z.string().regex(/^[\w.-]{1,128}$/, 'must be a media id') });

/** The bytes of a media, for the page's preview; a sandboxed answer, never run as a page. */
export function getMedia(url: URL, res: ServerResponse, store: SimulatorStore): void {
  const parsed = mediaQuerySchema.safeParse({ id: url.searchParams.get('id') ?? undefined });
  if (!parsed.success) {
    sendJson(res, 400, { error: 'validation_error', message: describeIssues(parsed.error) });
    return;
  }
  const item = store.media.get(parsed.data.id);
  if (!item) {
    sendJson(res, 404, { error: 'not_found', message: 'no media with this id' });
    return;
  }
  res.writeHead(200, {
    'content-type': item.mimeType,
    'content-length': String(item.data.length),
    'cache-control': 'no-store',
    'content-security-policy': 'sandbox',
    'x-content-type-options': 'nosniff',
  });
  res.end(item.data);
}
