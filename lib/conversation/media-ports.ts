import type { MediaKind } from '../media/media-kinds.ts';
import type { MessageMedia } from './inbound-event.ts';

/**
 * Ports of media understanding (media-understanding.ts): fetching a customer's media behind the
 * queue, transcribing audio, and limiting how much media a tenant may have processed per day.
 * Adapters: lib/media (S3 and the Graph API), lib/openai/transcriber.ts; tests point them at the
 * emulators, the Graph stand-in and the fake OpenAI server.
 */

export type { MediaKind } from '../media/media-kinds.ts';

export interface MediaFetchRequest {
  tenantId: string;
  messageId: string;
  kind: MediaKind;
  media: MessageMedia;
  /** The tenant's Cloud API token (empty for QR tenants, whose runner stored the bytes already). */
  accessToken: string;
}

export interface FetchedMedia {
  bytes: Buffer;
  /** The bare MIME type (`audio/ogg`). */
  mimeType: string;
  /** Where it is kept (S3 key under the tenant's prefix). */
  key: string;
}

/**
 * A message's bytes, kept under the tenant's media prefix: downloaded once (a retry reads the kept
 * copy). Rejects with MediaRefusedError (lib/media/media-download.ts) when Meta's limits, the MIME
 * type or the sha256 refuse it, or the media is gone; `retryable` ones are worth a redelivery.
 */
export interface MediaFetcher {
  fetch(request: MediaFetchRequest): Promise<FetchedMedia>;
}

export interface TranscriptionRequest {
  audio: Buffer;
  /** The bare MIME type; it decides the file name the API is given (Opus voice notes: `voice.ogg`). */
  mimeType: string;
  /** ISO-639-1 hint (the tenant's language). */
  language?: string;
  /** The tenant's own OpenAI key (decrypted), else the platform's is used. */
  tenantApiKey?: string;
  /** Epoch ms by which the transcript must be ready. */
  deadline?: number;
}

export interface Transcript {
  text: string;
  /** In [0, 1], from the model's token log-probabilities when it gives them. */
  confidence?: number;
  /** Audio seconds the API billed, when it says (else the caller's own measure is used). */
  seconds?: number;
  /** The model that transcribed. */
  model: string;
}

/**
 * Speech to text (OpenAI's transcription API). Rejects like the OpenAI responder: `notConfigured`
 * true when no key exists anywhere, `reason: 'unsupported_format'` for audio the API cannot take
 * (AMR, AAC), other OpenAiUnavailableError reasons when it failed after its retries.
 */
export interface Transcriber {
  transcribe(request: TranscriptionRequest): Promise<Transcript>;
}

/** The per-tenant daily cap of media processing (downloads, transcriptions, images to the model). */
export interface MediaQuota {
  /**
   * Takes one unit of today's allowance for this message; false when the tenant's `limit` is spent.
   * Idempotent per message id: a retry of the same message never takes a second unit.
   */
  take(tenantId: string, messageId: string, day: string, limit: number): Promise<boolean>;
}
