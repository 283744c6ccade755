import { createHash, randomBytes } from 'node:crypto';
import { type GraphEndpoint, versionedPath } from './graph-api.ts';
import { GraphRequestError, unknownObject } from './graph-errors.ts';
import type { SimulatorStore, StoredMedia } from './store.ts';

/**
 * Media a customer sent (the chat page, `sendMediaAsCustomer`) or the tests registered with
 * `addMedia`, served the way Meta serves it: `GET /{version}/{media-id}` answers its metadata and a
 * URL that lives 5 minutes, `GET /media-download?mid=…&ext=…&hash=…` (that URL) its bytes. Both
 * demand the bearer token (401 with Meta's 190 without one); a URL fetched after it expired answers
 * 404, so the product must look the media up again, as with Meta.
 */

export const MEDIA_URL_TTL_MS = 5 * 60 * 1000;

export function addMedia(store: SimulatorStore, media: StoredMedia & { id?: string }): string {
  const mediaId = media.id ?? String(1_000_000_000_000 + Math.floor(Math.random() * 1e12));
  store.media.set(mediaId, { mimeType: media.mimeType, data: media.data });
  return mediaId;
}

/** The SHA-256 of media bytes in base64, as Meta's webhooks carry it (its lookup answers hex). */
export const mediaSha256Base64 = (data: Buffer) => createHash('sha256').update(data).digest('base64');

/**
 * A fresh short-lived URL of the media, like the one Meta's lookup gives (`ext`: its expiry in Unix
 * seconds, `hash`: what makes it unguessable); it serves the bytes until `now() + MEDIA_URL_TTL_MS`.
 */
export function issueMediaUrl(
  store: SimulatorStore,
  options: { mediaId: string; host: string; graphPathPrefix: string; now: number },
): string {
  // Forget the URLs that expired, so a long run of lookups does not pile them up.
  for (const [key, issued] of store.mediaUrls)
    if (issued.expiresAt <= options.now) store.mediaUrls.delete(key);
  const hash = randomBytes(16).toString('base64url');
  const expiresAt = options.now + MEDIA_URL_TTL_MS;
  store.mediaUrls.set(hash, { mediaId: options.mediaId, expiresAt });
  const query = new URLSearchParams({
    mid: options.mediaId,
    ext: String(Math.floor(expiresAt / 1000)),
    hash,
  });
  return `http://${options.host}${options.graphPathPrefix}/media-download?${query}`;
}

/** `GET {prefix}/media-download?mid=…&ext=…&hash=…`: the bytes, with their content type. */
export function createMediaDownloadEndpoint(store: SimulatorStore, now: () => number): GraphEndpoint {
  return async ({ method, segments, url, call, res, requireToken, injectFault }) => {
    if (method !== 'GET' || segments.length !== 1 || segments[0] !== 'media-download') return false;
    call.operation = 'media_download';
    requireToken();
    // `failNext(1, { httpStatus: 404, code: 100, operation: 'media_download' })`: a URL that expired.
    if (injectFault()) return true;
    const mediaId = url.searchParams.get('mid') ?? '';
    const issued = store.mediaUrls.get(url.searchParams.get('hash') ?? '');
    // Meta answers an expired (or made-up) URL 404: the product has to look the media up again.
    if (!issued || issued.mediaId !== mediaId || now() >= issued.expiresAt) {
      throw new GraphRequestError(404, 100, 'The media URL has expired or does not exist');
    }
    const item = store.media.get(mediaId);
    if (!item) throw new GraphRequestError(404, 100, 'media not found');
    call.status = 200;
    res.writeHead(200, { 'content-type': item.mimeType, 'content-length': String(item.data.length) });
    res.end(item.data);
    return true;
  };
}

/** `GET /{version}/{media-id}`: the media's URL, type, hash and size. */
export function createMediaLookupEndpoint(
  store: SimulatorStore,
  graphPathPrefix: string,
  now: () => number,
): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (request.method !== 'GET' || !path || path.edge !== undefined) return false;
    request.call.operation = 'media';
    request.requireToken();
    if (request.injectFault()) return true;
    const item = store.media.get(path.objectId);
    if (!item) throw unknownObject(path.objectId);
    request.answer(200, {
      messaging_product: 'whatsapp',
      url: issueMediaUrl(store, {
        mediaId: path.objectId,
        host: request.req.headers.host ?? '127.0.0.1',
        graphPathPrefix,
        now: now(),
      }),
      mime_type: item.mimeType,
      sha256: createHash('sha256').update(item.data).digest('hex'),
      file_size: item.data.length,
      id: path.objectId,
    });
    return true;
  };
}
