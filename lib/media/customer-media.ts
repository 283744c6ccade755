import type { S3Client } from '@aws-sdk/client-s3';
import type { FetchedMedia, MediaFetcher, MediaFetchRequest } from '../conversation/media-ports.ts';
import { downloadMedia, MediaRefusedError } from './media-download.ts';
import { bareMimeType, limitBreach } from './media-kinds.ts';
import { mediaObjectKey, readMedia, storeMedia } from './media-objects.ts';

/**
 * Customers' media as the assistant gets it: from the tenant's prefix in the media bucket when it
 * is there already (a QR runner stored it, or an earlier attempt at this message downloaded it: a
 * retry never asks Meta again), else downloaded from the Cloud API with the tenant's token and kept.
 * The key is built from the tenant and the message id, never taken from the event.
 */
export interface CustomerMediaOptions {
  s3: S3Client;
  bucket: string;
  graphBaseUrl: string;
  graphVersion: string;
  /** Time one request may take; default 8 s (a lookup and a download, twice when a URL expired). */
  timeoutMs?: number;
}

export function createCustomerMedia(options: CustomerMediaOptions): MediaFetcher {
  const { s3, bucket } = options;
  return {
    async fetch(request: MediaFetchRequest): Promise<FetchedMedia> {
      const { tenantId, messageId, kind, media } = request;
      const key = mediaObjectKey(tenantId, messageId);
      const kept = await readMedia(s3, bucket, tenantId, messageId);
      if (kept) {
        const mimeType = bareMimeType(kept.mimeType);
        // Stored by a runner that checked Meta's limits; checked again, as nothing else guards the bucket.
        const breach = limitBreach(kind, mimeType, kept.bytes.length);
        if (breach) throw new MediaRefusedError(breach.reason, breach.detail);
        return { bytes: kept.bytes, mimeType, key };
      }
      if (media.stored || !media.id) {
        throw new MediaRefusedError('not_found', 'the media is not in the bucket (purged, or never stored)');
      }
      const downloaded = await downloadMedia({
        graphBaseUrl: options.graphBaseUrl,
        graphVersion: options.graphVersion,
        accessToken: request.accessToken,
        mediaId: media.id,
        kind,
        declared: { mimeType: media.mime_type, sha256: media.sha256 },
        timeoutMs: options.timeoutMs ?? 8_000,
      });
      await storeMedia(s3, bucket, {
        tenantId,
        messageId,
        bytes: downloaded.bytes,
        mimeType: downloaded.declaredMimeType,
        sha256: downloaded.sha256,
      });
      return { bytes: downloaded.bytes, mimeType: downloaded.mimeType, key };
    },
  };
}
