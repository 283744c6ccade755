import { createHash } from 'node:crypto';
import { isRecord, parseJsonObject } from '../whatsapp/graph-json.ts';
import { bareMimeType, limitBreach, MEDIA_LIMITS, type MediaKind } from './media-kinds.ts';

export { bareMimeType, isMediaKind, MEDIA_KINDS, MEDIA_LIMITS, type MediaKind } from './media-kinds.ts';

/**
 * Fetching a customer's media from the WhatsApp Cloud API, behind the queue (never in the webhook):
 * `GET /{media-id}` with the tenant's token gives a URL that lives 5 minutes, fetched at once with
 * the same token. A URL that answers 403/404/410 has expired (a retry came late): a new one is
 * asked for. Meta's limits per type and its MIME types are enforced before and while the bytes
 * come (the download stops at the limit), and the SHA-256 Meta declared must match what arrived.
 */

/**
 * Why media was not taken: the customer gets a polite answer, never a crash. `token_invalid`: the
 * Graph API refused the tenant's token (190), as a send would.
 */
export type MediaRefusal =
  | 'too_large'
  | 'mime_not_allowed'
  | 'sha256_mismatch'
  | 'not_found'
  | 'token_invalid'
  | 'unavailable';

export class MediaRefusedError extends Error {
  constructor(
    readonly reason: MediaRefusal,
    /** A plain sentence, safe for logs (never the token or the URL, which carries a signature). */
    readonly detail: string,
  ) {
    super(`media not downloaded (${reason}): ${detail}`);
    this.name = 'MediaRefusedError';
  }

  /** A later attempt may succeed (the Graph API failed or did not answer). */
  get retryable(): boolean {
    return this.reason === 'unavailable';
  }
}

export interface MediaDownloadRequest {
  graphBaseUrl: string;
  graphVersion: string;
  accessToken: string;
  mediaId: string;
  kind: MediaKind;
  /** What the webhook said: `mime_type` (parameters such as `; codecs=opus` allowed) and `sha256`. */
  declared: { mimeType?: string | undefined; sha256?: string | undefined };
  /** How many fresh URLs to ask for when one has expired; default 2 (the first and one more). */
  urlAttempts?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface DownloadedMedia {
  bytes: Buffer;
  /** The bare MIME type (`audio/ogg`), and as Meta gave it (`audio/ogg; codecs=opus`). */
  mimeType: string;
  declaredMimeType: string;
  sha256: string;
}

export async function downloadMedia(request: MediaDownloadRequest): Promise<DownloadedMedia> {
  const limits = MEDIA_LIMITS[request.kind];
  const attempts = Math.max(1, request.urlAttempts ?? 2);
  for (let attempt = 1; ; attempt++) {
    const lookup = await lookUp(request);
    const declaredMimeType = request.declared.mimeType ?? lookup.mimeType;
    const mimeType = bareMimeType(declaredMimeType);
    const breach =
      mimeType !== bareMimeType(lookup.mimeType)
        ? {
            reason: 'mime_not_allowed' as const,
            detail: `${request.kind} of type ${mimeType} is not accepted`,
          }
        : limitBreach(request.kind, mimeType, lookup.fileSize);
    if (breach) throw new MediaRefusedError(breach.reason, breach.detail);
    const bytes = await fetchBytes(request, lookup.url, limits.maxBytes);
    if (bytes === 'expired') {
      if (attempt >= attempts) throw new MediaRefusedError('unavailable', 'the media URL kept expiring');
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest();
    for (const expected of [request.declared.sha256, lookup.sha256]) {
      if (expected && !sameHash(expected, sha256)) {
        throw new MediaRefusedError('sha256_mismatch', 'the bytes do not match the SHA-256 Meta declared');
      }
    }
    return { bytes, mimeType, declaredMimeType, sha256: sha256.toString('hex') };
  }
}

/** Meta writes hashes in hex (the media lookup) and in base64 (some webhooks): either matches. */
function sameHash(expected: string, actual: Buffer): boolean {
  const value = expected.trim();
  return value.toLowerCase() === actual.toString('hex') || value === actual.toString('base64');
}

interface MediaLookup {
  url: string;
  mimeType: string;
  sha256?: string;
  fileSize?: number;
}

async function lookUp(request: MediaDownloadRequest): Promise<MediaLookup> {
  if (!/^[\w.-]{1,128}$/.test(request.mediaId)) throw new MediaRefusedError('not_found', 'not a media id');
  const base = `${request.graphBaseUrl.replace(/\/+$/, '')}/${request.graphVersion}`;
  const response = await get(request, `${base}/${encodeURIComponent(request.mediaId)}`);
  const body = parseJsonObject(await response.text());
  if (response.status === 400 || response.status === 404) {
    throw new MediaRefusedError('not_found', 'Meta does not know this media id (or it was deleted)');
  }
  if (response.status === 401) {
    throw new MediaRefusedError(
      'token_invalid',
      'the media lookup refused the access token (Graph API error 190)',
    );
  }
  // Another business's media, or a permission the token lacks: asking again will not help.
  if (response.status === 403) throw new MediaRefusedError('not_found', 'the token may not read this media');
  if (!response.ok || !body || typeof body.url !== 'string' || typeof body.mime_type !== 'string') {
    const error = isRecord(body?.error) ? body.error : undefined;
    throw new MediaRefusedError(
      'unavailable',
      `the media lookup answered ${response.status}${typeof error?.code === 'number' ? ` (Graph API error ${error.code})` : ''}`,
    );
  }
  return {
    url: body.url,
    mimeType: body.mime_type,
    ...(typeof body.sha256 === 'string' ? { sha256: body.sha256 } : {}),
    ...(typeof body.file_size === 'number' ? { fileSize: body.file_size } : {}),
  };
}

/** The bytes behind a media URL, at most `maxBytes`; 'expired' when the URL no longer serves them. */
async function fetchBytes(
  request: MediaDownloadRequest,
  url: string,
  maxBytes: number,
): Promise<Buffer | 'expired'> {
  const response = await get(request, url);
  if ([401, 403, 404, 410].includes(response.status)) {
    await response.body?.cancel();
    return 'expired';
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new MediaRefusedError('unavailable', `the media download answered ${response.status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new MediaRefusedError('too_large', `${request.kind} is over ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    if (error instanceof MediaRefusedError) throw error;
    // The connection dropped or the time ran out halfway: a later attempt may get it all.
    throw new MediaRefusedError('unavailable', 'the media download broke off before its end');
  }
  return Buffer.concat(chunks);
}

async function get(request: MediaDownloadRequest, url: string): Promise<Response> {
  try {
    return await (request.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${request.accessToken}` },
      signal: AbortSignal.timeout(request.timeoutMs ?? 20_000),
    });
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    throw new MediaRefusedError(
      'unavailable',
      timedOut ? 'the Graph API did not answer in time' : 'the Graph API could not be reached',
    );
  }
}
