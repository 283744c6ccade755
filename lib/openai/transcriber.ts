import { toFile } from 'openai';
import type { Transcriber, Transcript, TranscriptionRequest } from '../conversation/media-ports.ts';
import { logger } from '../logger.ts';
import { bareMimeType } from '../media/media-kinds.ts';
import { OpenAiUnavailableError, type RetryPolicy, withOpenAiRetry } from './retry.ts';
import { clientForTenant } from './tenant-client.ts';

/**
 * Speech to text with OpenAI's transcription API (`POST /v1/audio/transcriptions`, multipart), for
 * the customers' voice notes. Same keys and retry policy as the responder: the tenant's own key when
 * it has one, else the platform's; no key anywhere is "not configured", not a failure.
 */
export interface OpenAiTranscriberOptions {
  /** The platform key, or a getter (read per call, so a rotated secret is picked up). */
  platformApiKey?: string | (() => Promise<string | undefined>);
  /** Defaults to `OPENAI_BASE_URL`, then OpenAI's public API. */
  baseURL?: string;
  /** Default {@link DEFAULT_TRANSCRIPTION_MODEL}. */
  model?: string;
  /** Timeout of one HTTP attempt. Default 15 s: within the 20 s a transcription is given. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Base backoff before the first retry (doubles, with jitter). Default 500 ms. */
  backoffMs?: number;
  /** Cap of one backoff delay. Default 8 s. */
  maxBackoffMs?: number;
}

/** OpenAI's current transcription model (gpt-4o(-mini)-transcribe and whisper-1 are retired on 2027-02-26). */
export const DEFAULT_TRANSCRIPTION_MODEL = 'gpt-transcribe';
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * The file name the API is given per MIME type. It tells formats apart by the name's extension and
 * accepts only flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav and webm: an Opus voice note must be
 * called `.ogg` (the same bytes named `.opus` are refused). Types missing here (AAC, AMR, which
 * WhatsApp allows) cannot be transcribed.
 */
const FILE_NAMES: Readonly<Record<string, string>> = {
  'audio/ogg': 'voice.ogg',
  'audio/opus': 'voice.ogg',
  'audio/mpeg': 'audio.mp3',
  'audio/mp3': 'audio.mp3',
  'audio/mp4': 'audio.m4a',
  'audio/m4a': 'audio.m4a',
  'audio/x-m4a': 'audio.m4a',
  'audio/wav': 'audio.wav',
  'audio/wave': 'audio.wav',
  'audio/x-wav': 'audio.wav',
  'audio/webm': 'audio.webm',
  'audio/flac': 'audio.flac',
  'audio/x-flac': 'audio.flac',
};

/** The file name for a MIME type (parameters ignored), or undefined when the API cannot take it. */
export function transcriptionFileName(mimeType: string): string | undefined {
  return FILE_NAMES[bareMimeType(mimeType)];
}

/** Models that take the language hint as `languages[]`. */
const takesLanguages = (model: string) => /^gpt-transcribe(-\d{4}-\d{2}-\d{2})?$/.test(model);

/** Models that return token log-probabilities (`include[]=logprobs`); whisper-1 and others refuse it. */
const givesLogprobs = (model: string) => /^gpt-4o(-mini)?-transcribe(-\d{4}-\d{2}-\d{2})?$/.test(model);

export function createOpenAiTranscriber(options: OpenAiTranscriberOptions = {}): Transcriber {
  const model = options.model || DEFAULT_TRANSCRIPTION_MODEL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const basePolicy: RetryPolicy = {
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
  };

  return {
    async transcribe(request: TranscriptionRequest): Promise<Transcript> {
      const mimeType = bareMimeType(request.mimeType);
      const filename = FILE_NAMES[mimeType];
      if (!filename) {
        throw new OpenAiUnavailableError(
          'unsupported_format',
          `OpenAI cannot transcribe ${mimeType || 'untyped'} audio`,
        );
      }
      const client = await clientForTenant(request.tenantApiKey, options, timeoutMs);
      const policy: RetryPolicy = request.deadline
        ? { ...basePolicy, deadline: request.deadline, attemptMs: timeoutMs }
        : basePolicy;
      const language = isoLanguage(request.language);

      const transcription = await withOpenAiRetry(
        'audio.transcriptions.create',
        // A new file per attempt: an upload's body may be consumed by a failed one.
        async () =>
          client.audio.transcriptions.create({
            file: await toFile(request.audio, filename, { type: mimeType }),
            model,
            response_format: 'json',
            // gpt-transcribe takes possible languages; the others one language.
            ...(language ? (takesLanguages(model) ? { languages: [language] } : { language }) : {}),
            ...(givesLogprobs(model) ? { include: ['logprobs' as const] } : {}),
          }),
        policy,
      );

      const text = (transcription.text ?? '').trim();
      const confidence = confidenceOf(transcription.logprobs);
      const usage = transcription.usage;
      const seconds =
        usage?.type === 'duration' && Number.isFinite(usage.seconds) ? usage.seconds : undefined;
      // Never the words themselves: they are the customer's.
      logger.info('openai transcription', {
        model,
        filename,
        bytes: request.audio.length,
        textLength: text.length,
        confidence,
        seconds,
      });
      return {
        text,
        model,
        ...(confidence !== undefined ? { confidence } : {}),
        ...(seconds !== undefined ? { seconds } : {}),
      };
    },
  };
}

/**
 * The model's confidence in [0, 1]: the geometric mean of its token probabilities, exp(mean of the
 * log-probabilities). Undefined when it gave none.
 */
export function confidenceOf(logprobs: ReadonlyArray<{ logprob?: number }> | undefined): number | undefined {
  const values = (logprobs ?? [])
    .map((entry) => entry.logprob)
    .filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  if (values.length === 0) return undefined;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.min(1, Math.max(0, Math.exp(mean)));
}

/**
 * The ISO-639-1 code of a language hint (`es`, `es-ES`, `pt_BR` → `es`, `es`, `pt`). Anything else
 * is dropped: the API answers 400 to a code it does not know, which would fail every voice note.
 */
function isoLanguage(language: string | undefined): string | undefined {
  const primary = language?.trim().toLowerCase().split(/[-_]/)[0];
  return primary && /^[a-z]{2}$/.test(primary) ? primary : undefined;
}
