import { createHash } from 'node:crypto';
import { type GraphEndpoint, versionedPath } from './graph-api.ts';
import { GraphRequestError, unknownObject } from './graph-errors.ts';
import type { SimulatorStore, StoredMedia } from './store.ts';

/**
 * Media the tests registered with `addMedia`: `GET /{version}/{media-id}` answers its metadata and a
 * download URL, `GET /media-download?mid=…` (that URL) its bytes, both with the bearer token, like
 * Meta's short-lived media URLs.
 */

export function addMedia(store: SimulatorStore, media: StoredMedia & { id?: string }): string {
  const mediaId = media.id ?? String(1_000_000_000_000 + Math.floor(Math.random() * 1e12));
  store.media.set(mediaId, { mimeType: media.mimeType, data: media.data });
  return mediaId;
}

/** `GET {prefix}/media-download?mid=…`: the bytes, with their content type. */
export function createMediaDownloadEndpoint(store: SimulatorStore): GraphEndpoint {
  return async ({ method, segments, url, call, res, requireToken, injectFault }) => {
    if (method !== 'GET' || segments.length !== 1 || segments[0] !== 'media-download') return false;
    call.operation = 'media_download';
    requireToken();
    // `failNext(1, { httpStatus: 404, code: 100, operation: 'media_download' })`: a URL that expired.
    if (injectFault()) return true;
    const item = store.media.get(url.searchParams.get('mid') ?? '');
    if (!item) throw new GraphRequestError(404, 100, 'media not found');
    call.status = 200;
    res.writeHead(200, { 'content-type': item.mimeType, 'content-length': String(item.data.length) });
    res.end(item.data);
    return true;
  };
}

/** `GET /{version}/{media-id}`: the media's URL, type, hash and size. */
export function createMediaLookupEndpoint(store: SimulatorStore, graphPathPrefix: string): GraphEndpoint {
  return async (request) => {
    const path = versionedPath(request.segments);
    if (request.method !== 'GET' || !path || path.edge !== undefined) return false;
    request.call.operation = 'media';
    request.requireToken();
    if (request.injectFault()) return true;
    const item = store.media.get(path.objectId);
    if (!item) throw unknownObject(path.objectId);
    const host = request.req.headers.host ?? '127.0.0.1';
    request.answer(200, {
      messaging_product: 'whatsapp',
      url: `http://${host}${graphPathPrefix}/media-download?mid=${encodeURIComponent(path.objectId)}`,
      mime_type: item.mimeType,
      sha256: createHash('sha256').update(item.data).digest('hex'),
      file_size: item.data.length,
      id: path.objectId,
    });
    return true;
  };
}
