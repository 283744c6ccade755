import { createHash } from 'node:crypto';
import { bareMimeType, isMediaKind, limitBreach, type MediaKind } from '../../media/media-kinds.ts';
import { EngineMediaUnavailableError, type EngineMessage } from '../session-engine.ts';

/**
 * A QR customer's media, kept while the session has it: a Cloud API message can be fetched from
 * Meta behind the queue, a QR one only through the live session that heard it. So the runner
 * downloads the bytes at once, under the Cloud API path's limits (media-download.ts: a type Meta
 * would refuse, or more bytes than Meta takes, is not kept), and stores them at the key the
 * consumer derives from the tenant and the message id (media-objects.ts). What is not kept is
 * still queued, described without `stored`: the assistant answers it politely instead of losing it.
 */

/** Where kept media goes: the media bucket, under the tenant's prefix (storeMedia in AWS). */
export interface MediaSink {
  store(media: {
    tenantId: string;
    messageId: string;
    bytes: Buffer;
    /** The bare MIME type (`audio/ogg`): the object's content type. */
    mimeType: string;
    sha256: string;
  }): Promise<void>;
}

/** Why a message's media was not kept; `unavailable`: WhatsApp no longer had it, or took too long. */
export type MediaNotKept = 'too_large' | 'mime_not_allowed' | 'unavailable' | 'store_failed';

export type KeptMedia =
  | { stored: true; sha256: string }
  | {
      stored: false;
      reason: MediaNotKept /** A sentence safe for logs (no bytes, no number). */;
      detail: string;
    };

export const DEFAULT_MEDIA_DOWNLOAD_TIMEOUT_MS = 60_000;

/** The Cloud API kind of a message's media, when its type carries media. */
export function mediaKindOf(message: EngineMessage): MediaKind | undefined {
  return message.media && isMediaKind(message.type) ? message.type : undefined;
}

/** Downloads a message's media through its engine and stores it; never throws. */
export async function keepMedia(
  tenantId: string,
  message: EngineMessage,
  sink: MediaSink,
  timeoutMs = DEFAULT_MEDIA_DOWNLOAD_TIMEOUT_MS,
): Promise<KeptMedia> {
  const kind = mediaKindOf(message);
  const media = message.media;
  if (!kind || !media) return { stored: false, reason: 'unavailable', detail: 'the message has no media' };
  const mimeType = bareMimeType(media.mimeType);
  // The announced size spares downloading what would be refused; the bytes are checked again.
  const announced = limitBreach(kind, mimeType, media.size);
  if (announced) return { stored: false, ...announced };
  let bytes: Buffer;
  try {
    bytes = await withTimeout(media.download(), timeoutMs);
  } catch (error) {
    const detail =
      error instanceof EngineMediaUnavailableError || error instanceof DownloadTimeoutError
        ? error.message
        : `the download failed: ${errorName(error)}`;
    return { stored: false, reason: 'unavailable', detail };
  }
  const received = limitBreach(kind, mimeType, bytes.length);
  if (received) return { stored: false, ...received };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    await sink.store({ tenantId, messageId: message.id, bytes, mimeType, sha256 });
  } catch (error) {
    return { stored: false, reason: 'store_failed', detail: `storing it failed: ${errorName(error)}` };
  }
  return { stored: true, sha256 };
}

class DownloadTimeoutError extends Error {
  constructor(ms: number) {
    super(`the download took more than ${ms} ms`);
    this.name = 'DownloadTimeoutError';
  }
}

/** A hung download (a stuck page) must not hold the contact's later messages forever. */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DownloadTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error's kind and message, never a stack or a request (an SDK error names no secret). */
function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
