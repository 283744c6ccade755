/**
 * The media a customer can send, as Meta names and bounds it: the message types that carry media,
 * Meta's size limit and MIME types per type. Light on purpose (no I/O, no dependency): the webhook
 * reads which types carry media, and every path that keeps media (the Cloud API download, the QR
 * runner, the assistant reading a kept object) checks the same limits through {@link limitBreach}.
 */

export type MediaKind = 'audio' | 'image' | 'video' | 'document' | 'sticker';

const MB = 1024 * 1024;

/** What Meta accepts per type (its "supported media types"), so what a customer can send us. */
export const MEDIA_LIMITS: Record<MediaKind, { maxBytes: number; mimeTypes: readonly string[] }> = {
  audio: { maxBytes: 16 * MB, mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'] },
  image: { maxBytes: 5 * MB, mimeTypes: ['image/jpeg', 'image/png'] },
  video: { maxBytes: 16 * MB, mimeTypes: ['video/mp4', 'video/3gpp'] },
  document: {
    maxBytes: 100 * MB,
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
  },
  // Animated stickers may take 500 KB, static ones 100 KB: the larger bound holds for both.
  sticker: { maxBytes: 500 * 1024, mimeTypes: ['image/webp'] },
};

/** The kinds of media a customer can send, as Meta names the message types. */
export const MEDIA_KINDS = Object.keys(MEDIA_LIMITS) as readonly MediaKind[];
export const isMediaKind = (type: string): type is MediaKind => Object.hasOwn(MEDIA_LIMITS, type);

/** The bare type of a MIME type with parameters, lowercased. */
export const bareMimeType = (mimeType: string) => mimeType.split(';')[0]!.trim().toLowerCase();

/** Why media of this kind, bare MIME type and size (when known) is over Meta's limits, if it is. */
export function limitBreach(
  kind: MediaKind,
  mimeType: string,
  bytes: number | undefined,
): { reason: 'mime_not_allowed' | 'too_large'; detail: string } | undefined {
  const limits = MEDIA_LIMITS[kind];
  if (!limits.mimeTypes.includes(mimeType)) {
    return { reason: 'mime_not_allowed', detail: `${kind} of type ${mimeType} is not accepted` };
  }
  if (bytes !== undefined && bytes > limits.maxBytes) {
    return { reason: 'too_large', detail: `${kind} of ${bytes} bytes is over ${limits.maxBytes}` };
  }
  return undefined;
}
