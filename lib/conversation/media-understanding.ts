import { TransientError } from '../errors.ts';
import { logger } from '../logger.ts';
import { oggOpusDurationSeconds } from '../media/audio-duration.ts';
import { MediaRefusedError } from '../media/media-download.ts';
import { isMediaKind } from '../media/media-kinds.ts';
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
import type { MediaProcessedOutcome } from './outcomes.ts';
import { type ResponderAttachment, SendFailure, type StoredMessage } from './ports.ts';

/**
 * What a customer's voice note, picture or file says, before the assistant answers it (behind the
 * queue, under the message's claim): the bytes are fetched once and kept under the tenant's prefix,
 * audio is transcribed (the transcript becomes the message, marked as one), pictures and small PDFs
 * go to the model with the caption. Whatever cannot be taken in (no model, a failure, Meta's
 * limits, the tenant's daily cap, an audio past the tenant's limit) ends in a polite fixed reply,
 * or in the caption's answer after a short note saying so: never silence, never a crash.
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
 * Time a transcription may take, its retries included: the responder's budget, shortened by the
 * time media took, and the sends follow within the assistant's 90 s.
 */
export const TRANSCRIPTION_BUDGET_MS = 20_000;

/** Below this transcript confidence the answer first says what it understood. */
export const LOW_TRANSCRIPT_CONFIDENCE = 0.6;

/** Message types whose bytes are fetched to answer them (stickers are recorded, never answered). */
const ANSWERED_MEDIA = new Set<MediaKind>(['audio', 'image', 'video', 'document']);
/** Picture types the Responses API takes as `input_image` (of those Meta delivers). */
const MODEL_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

export type PoliteReply = keyof Pick<typeof cannedReplies, 'textOnly' | 'audioTooLong' | 'notOpened'>;
export type PoliteNote = keyof Pick<typeof cannedReplies, 'mediaUnreadNote' | 'fileNotOpenedNote'>;

/**
 * What the planner answers: `read` the text (a caption, a transcript) with what the model may look
 * at, after `note` when some media was not taken in; or `decline` with a fixed polite reply.
 */
export type Understanding =
  | {
      kind: 'read';
      attachments: ResponderAttachment[];
      /** A transcript the model was unsure of: the answer repeats it first. */
      unsure?: string;
      note?: PoliteNote;
    }
  | { kind: 'decline'; reply: PoliteReply };

/** What the stored inbound message gains once its media was taken in (its transcript is its text). */
export type MediaRecord = Pick<StoredMessage, 'transcript' | 'media'>;

/** The polite reply without a caption, the note before the caption's answer with one. */
const NOTE_OF: Record<PoliteReply, PoliteNote> = {
  textOnly: 'mediaUnreadNote',
  audioTooLong: 'mediaUnreadNote',
  notOpened: 'fileNotOpenedNote',
};

/**
 * Whether the tenant's answers come from a model that can look at pictures: its assistant was built
 * on OpenAI (its FAQs are in a vector store) or it brought its own key. The offline FAQ responder
 * reads text only, so its tenants' pictures are never fetched for it.
 */
export const modelSeesMedia = (client: Client) =>
  client.openai_api_key_enc !== undefined || client.assistant?.vector_store_id !== undefined;

/**
 * Takes in the attempt's media message, if it is one: sets `attempt.understanding` (and what the
 * stored message gains) and, for a transcript, makes it the message's text, so it is answered, and
 * joins a burst, like a text. Throws TransientError when the media may be fetched later (the Graph
 * API did not answer), SendFailure `token_invalid` when the Graph API refused the tenant's token.
 */
export async function understandMedia(attempt: Attempt, client: Client, accessToken: string): Promise<void> {
  const { type } = attempt.event.message;
  if (!isMediaKind(type) || !ANSWERED_MEDIA.has(type)) return;
  const startedAt = attempt.now().getTime();
  try {
    attempt.understanding = await understood(attempt, client, type, accessToken);
  } finally {
    attempt.mediaMs = attempt.now().getTime() - startedAt;
  }
}

async function understood(
  attempt: Attempt,
  client: Client,
  kind: MediaKind,
  accessToken: string,
): Promise<Understanding> {
  const { event, deps } = attempt;
  const { message } = event;
  const caption = message.text?.trim() ? message.text : undefined;
  const orCaption = (reply: PoliteReply): Understanding =>
    caption ? { kind: 'read', attachments: [], note: NOTE_OF[reply] } : { kind: 'decline', reply };
  const media = deps.media;
  // A QR runner keeps the bytes itself: a QR message is never looked up on the Graph API.
  const fetchable = message.media && (message.media.stored || (message.media.id && event.channel !== 'qr'));
  if (!media || !message.media || !fetchable) return orCaption('textOnly');
  // Offline the FAQ responder reads the caption alone: a picture or a file is not even fetched.
  if (kind !== 'audio' && !modelSeesMedia(client)) return orCaption('textOnly');

  const limit = client.media_daily_limit ?? DEFAULT_MEDIA_DAILY_LIMIT;
  const day = attempt.now().toISOString().slice(0, 10);
  const allowed = limit > 0 && (await (media.quota?.take(client.id, message.id, day, limit) ?? true));
  if (!allowed) {
    await refused(deps, client.id, 'daily_limit');
    return orCaption('textOnly');
  }
  let fetched: FetchedMedia;
  try {
    fetched = await media.fetcher.fetch({
      tenantId: client.id,
      messageId: message.id,
      kind,
      media: message.media,
      accessToken,
    });
  } catch (error) {
    if (!(error instanceof MediaRefusedError)) throw error;
    return refusedMedia(deps, client, error, orCaption);
  }
  attempt.mediaRecord = { media: { mime_type: fetched.mimeType, bytes: fetched.bytes.length } };
  if (kind === 'audio') return transcribed(attempt, client, media, fetched, orCaption);
  const attachment = attachmentOf(kind, fetched, message.media.filename, media.pdfMaxBytes);
  if (!attachment) return orCaption(kind === 'document' ? 'notOpened' : 'textOnly');
  attempt.mediaProcessed = processed(attempt, 0, 1);
  return { kind: 'read', attachments: [attachment] };
}

/** Media the fetcher refused: asked for again later, the tenant's token flagged, or a polite answer. */
async function refusedMedia(
  deps: AnswerDeps,
  client: Client,
  error: MediaRefusedError,
  orCaption: (reply: PoliteReply) => Understanding,
): Promise<Understanding> {
  const { reason } = error;
  if (reason === 'unavailable') throw new TransientError(`media not fetched yet: ${error.detail}`);
  if (reason === 'token_invalid') {
    // As a send refused for the token: the tenant is flagged, the operator told (send-replies.ts).
    throw new SendFailure('the Graph API refused the token on a media lookup', {
      kind: 'token_invalid',
      detail: error.detail,
    });
  }
  logger.warn('customer media refused', { tenantId: client.id, reason, detail: error.detail });
  await refused(deps, client.id, reason);
  return orCaption('notOpened');
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
  orCaption: (reply: PoliteReply) => Understanding,
): Promise<Understanding> {
  const { event, deps } = attempt;
  const maxSeconds = client.audio_max_seconds ?? DEFAULT_AUDIO_MAX_SECONDS;
  const measured = fetched.mimeType === 'audio/ogg' ? oggOpusDurationSeconds(fetched.bytes) : undefined;
  if (measured !== undefined && measured > maxSeconds) {
    await refused(deps, client.id, 'audio_too_long');
    return orCaption('audioTooLong');
  }
  if (!media.transcriber) return orCaption('textOnly');
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
    // No key anywhere is how the offline default runs: neither a failure nor a refusal to count.
    if (reason !== 'not_configured') {
      logger.warn('transcription failed', { tenantId: client.id, reason });
      await refused(
        deps,
        client.id,
        reason === 'unsupported_format' ? 'unsupported_format' : 'transcription',
      );
    }
    return orCaption('textOnly');
  }
  const text = transcript.text.trim();
  if (!text) return orCaption('textOnly');
  const seconds = Math.ceil(transcript.seconds ?? measured ?? 0);
  attempt.mediaProcessed = processed(attempt, seconds, 0);
  attempt.event = { ...event, message: { ...event.message, text } };
  attempt.mediaRecord = {
    ...attempt.mediaRecord,
    transcript: {
      model: transcript.model,
      ...(transcript.confidence !== undefined
        ? { confidence: Math.round(transcript.confidence * 1000) / 1000 }
        : {}),
      seconds,
    },
  };
  return { kind: 'read', attachments: [], ...(isUncertain(transcript) ? { unsure: text } : {}) };
}

/** Whether a transcript is unsure enough to be repeated to the customer before the answer. */
const isUncertain = (transcript: Pick<Transcript, 'confidence'> | undefined) =>
  transcript?.confidence !== undefined && transcript.confidence < LOW_TRANSCRIPT_CONFIDENCE;

/** The outcome to report once the answer's plan is stored (or the message joined its burst). */
const processed = (
  attempt: Attempt,
  transcriptionSeconds: number,
  imageInputs: number,
): MediaProcessedOutcome => ({
  type: 'media_processed',
  tenantId: attempt.event.tenant_id,
  receivedAt: new Date(attempt.event.received_at),
  transcriptionSeconds,
  imageInputs,
});

/** Why a transcription failed, as a short token for logs. */
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
