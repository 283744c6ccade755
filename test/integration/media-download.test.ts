import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBucket } from '../../infra/local/buckets.ts';
import { type StandaloneSimulator, startStandaloneSimulator } from '../../infra/local/whatsapp-simulator.ts';
import type { AwsClients } from '../../lib/aws-clients.ts';
import {
  downloadMedia,
  MEDIA_LIMITS,
  type MediaDownloadRequest,
  MediaRefusedError,
} from '../../lib/media/media-download.ts';
import { mediaObjectKey, readMedia, storeMedia } from '../../lib/media/media-objects.ts';
import { createS3MediaStore } from '../../lib/retention/media-store.ts';
import { freshTable, uniqueName } from '../support/emulators.ts';

/**
 * A customer's media fetched the way Meta serves it (the Graph stand-in: `GET /{media-id}` → a
 * short-lived URL → the bytes, both with the bearer token), checked against Meta's limits, MIME
 * types and SHA-256, and kept in S3 (fauxqs) under the tenant's prefix, which the purge empties.
 */

const TOKEN = 'EAAGmediaDownloadTenantToken0001';
let graph: StandaloneSimulator;
let aws: AwsClients;
let bucket: string;

beforeAll(async () => {
  graph = await startStandaloneSimulator({ appSecret: 'media-app-secret' });
  ({ aws } = await freshTable());
  bucket = uniqueName('media');
  await ensureBucket(aws.s3, bucket);
});

afterAll(async () => {
  await graph?.stop();
});

beforeEach(() => graph.simulator.reset());

/** A voice note as WhatsApp records it: Opus in an Ogg container. */
const voiceNote = () => Buffer.concat([Buffer.from('OggS'), randomBytes(2048)]);
const hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function request(mediaId: string, overrides: Partial<MediaDownloadRequest> = {}): MediaDownloadRequest {
  return {
    graphBaseUrl: graph.graphBaseUrl,
    graphVersion: 'v26.0',
    accessToken: TOKEN,
    mediaId,
    kind: 'audio',
    declared: { mimeType: 'audio/ogg; codecs=opus' },
    ...overrides,
  };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof MediaRefusedError ? error.reason : error),
  );

const mediaCalls = (operation: string) =>
  graph.simulator.graphCalls.filter((call) => call.operation === operation).length;

describe('a voice note', () => {
  it('is fetched with the token, checked against its SHA-256 and kept under the tenant', async () => {
    const bytes = voiceNote();
    const mediaId = graph.simulator.addMedia({ mimeType: 'audio/ogg', data: bytes });

    const media = await downloadMedia(
      request(mediaId, { declared: { mimeType: 'audio/ogg; codecs=opus', sha256: hex(bytes) } }),
    );
    const stored = await storeMedia(aws.s3, bucket, {
      tenantId: 'cl_media_a',
      messageId: 'wamid.voice.1',
      bytes: media.bytes,
      mimeType: media.declaredMimeType,
      sha256: media.sha256,
    });

    expect(media).toMatchObject({ mimeType: 'audio/ogg', sha256: hex(bytes) });
    expect(media.bytes.equals(bytes)).toBe(true);
    expect(stored.key).toBe('cl_media_a/media/wamid.voice.1');
    expect((await readMedia(aws.s3, bucket, 'cl_media_a', 'wamid.voice.1'))?.bytes.equals(bytes)).toBe(true);
    // Tenant B's key for the same message names its own prefix: it never reads A's object.
    expect(await readMedia(aws.s3, bucket, 'cl_media_b', 'wamid.voice.1')).toBeUndefined();
  });

  it('whose URL expired before it was fetched is fetched again through a new URL', async () => {
    const bytes = voiceNote();
    const mediaId = graph.simulator.addMedia({ mimeType: 'audio/ogg', data: bytes });
    graph.simulator.failNext(1, { httpStatus: 404, code: 100, operation: 'media_download' });

    const media = await downloadMedia(request(mediaId));

    expect(media.bytes.equals(bytes)).toBe(true);
    expect(mediaCalls('media')).toBe(2); // two lookups: two URLs
    expect(mediaCalls('media_download')).toBe(2);
  });
});

describe('media that is refused', () => {
  it('given a SHA-256 that does not match the bytes, then sha256_mismatch', async () => {
    const mediaId = graph.simulator.addMedia({ mimeType: 'audio/ogg', data: voiceNote() });
    const declared = { mimeType: 'audio/ogg', sha256: hex(Buffer.from('other bytes')) };
    expect(await refusal(downloadMedia(request(mediaId, { declared })))).toBe('sha256_mismatch');
  });

  it('given a picture over 5 MB, then too_large, before a byte of it is downloaded', async () => {
    const big = Buffer.alloc(MEDIA_LIMITS.image.maxBytes + 1, 1);
    const mediaId = graph.simulator.addMedia({ mimeType: 'image/jpeg', data: big });
    const oversize = request(mediaId, { kind: 'image', declared: { mimeType: 'image/jpeg' } });
    expect(await refusal(downloadMedia(oversize))).toBe('too_large');
    expect(mediaCalls('media_download')).toBe(0);
  });

  it('given a type Meta does not allow for it, or one that differs from the declared, then mime_not_allowed', async () => {
    const gif = graph.simulator.addMedia({ mimeType: 'image/gif', data: Buffer.from('GIF89a') });
    expect(
      await refusal(downloadMedia(request(gif, { kind: 'image', declared: { mimeType: 'image/gif' } }))),
    ).toBe('mime_not_allowed');
    const pdf = graph.simulator.addMedia({ mimeType: 'application/pdf', data: Buffer.from('%PDF-1.7') });
    expect(
      await refusal(downloadMedia(request(pdf, { kind: 'audio', declared: { mimeType: 'audio/ogg' } }))),
    ).toBe('mime_not_allowed');
  });

  it('given an unknown media id, then not_found; given a URL that keeps expiring, then unavailable (retryable)', async () => {
    expect(await refusal(downloadMedia(request('1234567890')))).toBe('not_found');
    const mediaId = graph.simulator.addMedia({ mimeType: 'audio/ogg', data: voiceNote() });
    graph.simulator.failNext(2, { httpStatus: 404, code: 100, operation: 'media_download' });
    const error = await downloadMedia(request(mediaId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaRefusedError);
    expect((error as MediaRefusedError).reason).toBe('unavailable');
    expect((error as MediaRefusedError).retryable).toBe(true);
  });
});

describe('the purge', () => {
  it("deletes the tenant's media and leaves another tenant's", async () => {
    for (const tenantId of ['cl_purge_a', 'cl_purge_b']) {
      await storeMedia(aws.s3, bucket, {
        tenantId,
        messageId: 'wamid.photo.1',
        bytes: Buffer.from('jpeg'),
        mimeType: 'image/jpeg',
        sha256: hex(Buffer.from('jpeg')),
      });
    }
    const store = createS3MediaStore(aws.s3, bucket);
    expect(await store.deleteOlderThan('cl_purge_a', undefined, 100)).toEqual({ deleted: 1, more: false });
    expect(await readMedia(aws.s3, bucket, 'cl_purge_a', 'wamid.photo.1')).toBeUndefined();
    expect(await readMedia(aws.s3, bucket, 'cl_purge_b', 'wamid.photo.1')).toBeDefined();
    expect(mediaObjectKey('cl_purge_a', 'wamid.x')).toBe('cl_purge_a/media/wamid.x');
  });
});
