import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';
import { oggOpusDurationSeconds } from '../media/audio-duration.ts';
import { MediaRefusedError } from '../media/media-download.ts';
import type { MediaRefusalKind } from '../observability/metric-catalog.ts';
import { type Client, DEFAULT_AUDIO_MAX_SECONDS, DEFAULT_MEDIA_DAILY_LIMIT } from '../tenants/client.ts';
import { type AnswerDeps, type Attempt, report } from './answer-attempt.ts';
import type { cannedReplies } from './canned-replies.ts';
import type {
  FetchedMedia,
  MediaFetcher,
  MediaKind,
  MediaQuota,
  Transcriber,
  Transcript,
} from './media-ports.ts';
import type { ResponderAttachment, StoredMessage } from './ports.ts';

/**
 * What a customer's voice note, picture or file says, before the assistant answers it (behind the
 * queue, under the message's claim): the bytes are fetched once and kept under the tenant's prefix,
 * audio is transcribed (the transcript becomes the message, marked as one), pictures and small PDFs
 * go to the model with the caption. Whatever cannot be taken in (no model, a failure, Meta's
 * limits, the tenant's daily cap, an audio past the tenant's limit) ends in a polite fixed reply,
 * or in the caption alone when there is one: never silence, never a crash.
 */

export interface MediaDeps {
  fetcher: MediaFetcher;
  /** Without it (no OpenAI anywhere) audio gets the polite "text only" reply. */
  transcriber?: Transcriber;
  /** Without it there is no daily cap. */
  quota?: MediaQuota;
  /** The largest PDF given to the model as a file (bytes); default {@link DEFAULT_PDF_INPUT_MAX_BYTES}. */
  pdfMaxBytes?: number;
}

/** PDFs up to this size go to the model whole (base64 in the request); larger ones get a polite answer. */
export const DEFAULT_PDF_INPUT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Time a transcription may take, its retries included: the responder's budget (50 s) and the sends
 * follow within the assistant's 90 s. An attempt that could not end in time is not started.
 */
export const TRANSCRIPTION_BUDGET_MS = 20_000;

/** Below this transcript confidence the answer first says what it understood. */
export const LOW_TRANSCRIPT_CONFIDENCE = 0.6;

/** Message types whose bytes are fetched to answer them (stickers are recorded, never answered). */
const ANSWERED_MEDIA = new Set<MediaKind>(['audio', 'image', 'video', 'document']);
/** Picture types the Responses API takes as `input_image` (of those Meta delivers). */
const MODEL_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

export type PoliteReply = keyof Pick<typeof cannedReplies, 'textOnly' | 'audioTooLong' | 'notOpened'>;

/**
 * What the planner answers: `read` the text (a caption, a transcript) with what the model may look
 * at, or `decline` with a fixed polite reply.
 */
export type Understanding =
  | { kind: 'read'; attachments: ResponderAttachment[]; transcript?: Transcript }
  | { kind: 'decline'; reply: PoliteReply };

const isAnsweredMedia = (type: string): type is MediaKind => ANSWERED_MEDIA.has(type as MediaKind);

/**
 * Takes in the attempt's media message, if it is one: sets `attempt.understanding` and, for a
 * transcript, makes it the message's text (so it is answered, and joins a burst, like a text) and
 * stores it with the message. Throws TransientError when the media may be fetched later (the Graph
 * API did not answer): the message is delivered again.
 */
export async function understandMedia(attempt: Attempt, client: Client, accessToken: string): Promise<void> {
  const { event, deps } = attempt;
  const { message } = event;
  if (!isAnsweredMedia(message.type)) return;
  const caption = message.text?.trim() ? message.text : undefined;
  const orCaption = (reply: PoliteReply): Understanding =>
    caption ? { kind: 'read', attachments: [] } : { kind: 'decline', reply };
  const media = deps.media;
  if (!media || !message.media || (!message.media.id && !message.media.stored)) {
    attempt.understanding = orCaption('textOnly');
    return;
  }
  const limit = client.media_daily_limit ?? DEFAULT_MEDIA_DAILY_LIMIT;
  const day = attempt.now().toISOString().slice(0, 10);
  const allowed = limit > 0 && (await (media.quota?.take(client.id, message.id, day, limit) ?? true));
  if (!allowed) {
    await refused(deps, client.id, 'daily_limit');
    attempt.understanding = orCaption('textOnly');
    return;
  }
  let fetched: FetchedMedia;
  try {
    fetched = await media.fetcher.fetch({
      tenantId: client.id,
      messageId: message.id,
      kind: message.type,
      media: message.media,
      accessToken,
    });
  } catch (error) {
    if (!(error instanceof MediaRefusedError)) throw error;
    if (error.retryable) throw new TransientError(`media not fetched yet: ${error.detail}`);
    logger.warn('customer media refused', {
      tenantId: client.id,
      reason: error.reason,
      detail: error.detail,
    });
    // `unavailable` (the only other reason) was retried above.
    await refused(deps, client.id, error.reason as MediaRefusalKind);
    attempt.understanding = orCaption('notOpened');
    return;
  }
  attempt.mediaRecord = { media: mediaFields(fetched) };
  if (message.type === 'audio') {
    attempt.understanding = await transcribed(attempt, client, media, fetched);
    return;
  }
  const attachment = attachmentOf(message.type, fetched, message.media.filename, media.pdfMaxBytes);
  if (!attachment) {
    attempt.understanding = orCaption(message.type === 'document' ? 'notOpened' : 'textOnly');
    return;
  }
  await report(deps, {
    type: 'media_processed',
    tenantId: client.id,
    receivedAt: new Date(event.received_at),
    transcriptionSeconds: 0,
    imageInputs: 1,
  });
  attempt.understanding = { kind: 'read', attachments: [attachment] };
}

/** A picture or a small PDF as the model takes it; undefined for what it cannot look at (video...). */
function attachmentOf(
  kind: MediaKind,
  fetched: FetchedMedia,
  filename: string | undefined,
  pdfMaxBytes = DEFAULT_PDF_INPUT_MAX_BYTES,
): ResponderAttachment | undefined {
  const base64 = () => fetched.bytes.toString('base64');
  if (kind === 'image' && MODEL_IMAGE_TYPES.has(fetched.mimeType)) {
    return { kind: 'image', mimeType: fetched.mimeType, base64: base64() };
  }
  if (kind === 'document' && fetched.mimeType === 'application/pdf' && fetched.bytes.length <= pdfMaxBytes) {
    const name = filename?.trim() || 'document.pdf';
    return {
      kind: 'file',
      mimeType: fetched.mimeType,
      filename: /\.pdf$/i.test(name) ? name : `${name}.pdf`,
      base64: base64(),
    };
  }
  return undefined;
}

/** An audio's transcript as the message, or why there is none. */
async function transcribed(
  attempt: Attempt,
  client: Client,
  media: MediaDeps,
  fetched: FetchedMedia,
): Promise<Understanding> {
  const { event, deps } = attempt;
  const maxSeconds = client.audio_max_seconds ?? DEFAULT_AUDIO_MAX_SECONDS;
  const measured = fetched.mimeType === 'audio/ogg' ? oggOpusDurationSeconds(fetched.bytes) : undefined;
  if (measured !== undefined && measured > maxSeconds) {
    await refused(deps, client.id, 'audio_too_long');
    return { kind: 'decline', reply: 'audioTooLong' };
  }
  if (!media.transcriber) return { kind: 'decline', reply: 'textOnly' };
  let transcript: Transcript;
  try {
    const tenantApiKey = client.openai_api_key_enc
      ? await deps.secrets.decrypt(client.openai_api_key_enc, { tenantId: client.id })
      : undefined;
    transcript = await media.transcriber.transcribe({
      audio: fetched.bytes,
      mimeType: fetched.mimeType,
      language: client.language,
      ...(tenantApiKey ? { tenantApiKey } : {}),
      deadline: attempt.now().getTime() + TRANSCRIPTION_BUDGET_MS,
    });
  } catch (error) {
    const reason = reasonOf(error);
    // No key anywhere is how the offline default runs, not a failure.
    if (reason !== 'not_configured') logger.warn('transcription failed', { tenantId: client.id, reason });
    await refused(deps, client.id, reason === 'unsupported_format' ? 'unsupported_format' : 'transcription');
    return { kind: 'decline', reply: 'textOnly' };
  }
  const text = transcript.text.trim();
  if (!text) return { kind: 'decline', reply: 'textOnly' };
  const seconds = Math.ceil(transcript.seconds ?? measured ?? 0);
  await report(deps, {
    type: 'media_processed',
    tenantId: client.id,
    receivedAt: new Date(event.received_at),
    transcriptionSeconds: seconds,
    imageInputs: 0,
  });
  attempt.event = { ...event, message: { ...event.message, text } };
  attempt.mediaRecord = {
    media: mediaFields(fetched),
    transcript: { model: transcript.model, ...confidenceOf(transcript), seconds },
  };
  return { kind: 'read', attachments: [], transcript: { ...transcript, text } };
}

const confidenceOf = (transcript: Transcript) =>
  transcript.confidence !== undefined ? { confidence: Math.round(transcript.confidence * 1000) / 1000 } : {};

/** What a stored inbound message gains once its media was taken in (its transcript is its text). */
export type MediaRecord = Pick<StoredMessage, 'transcript' | 'media'>;

const mediaFields = (fetched: FetchedMedia) => ({ mime_type: fetched.mimeType, bytes: fetched.bytes.length });

/** Why a transcription failed, as a short token for logs and the metric. */
function reasonOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const fields = error as { notConfigured?: unknown; reason?: unknown; name?: unknown };
  if (fields.notConfigured === true) return 'not_configured';
  if (typeof fields.reason === 'string') return fields.reason;
  return typeof fields.name === 'string' ? fields.name : 'unknown';
}

/** Counts media that was not taken in, by a fixed reason (never the customer's data). */
const refused = (deps: AnswerDeps, tenantId: string, reason: MediaRefusalKind) =>
  report(deps, { type: 'media_refused', tenantId, reason });
