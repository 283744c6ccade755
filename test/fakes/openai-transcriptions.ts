/**
 * `POST /v1/audio/transcriptions` of the fake OpenAI server (openai-server.ts), in the real API's
 * wire format: a multipart form (`file`, `model`, `language`, `include[]`, `response_format`) in,
 * `{"text", "logprobs"?, "usage"}` out, refused the way OpenAI refuses it:
 *
 * - a file name whose extension is not one the API takes (`.opus`, `.aac`, `.amr`...): 400 with
 *   param `file` (the API goes by the name, not the bytes);
 * - an unknown model: 404 `model_not_found`; `include[]=logprobs` with a model that has none
 *   (whisper-1): 400; a language that is not ISO-639-1: 400; an empty file: 400.
 *
 * What the audio "says" comes from a rule the test controls (`setTranscriptionRule`); by default
 * the UTF-8 text after `SPEECH:` inside the bytes (test/support/media-samples.ts puts it in the
 * OpusTags of its voice notes). Usage follows the model family: whisper-1 bills `duration`
 * (seconds), the gpt-4o transcribe models bill `tokens`.
 */
import { oggOpusDurationSeconds } from '../../lib/media/audio-duration.ts';

/** What a test's rule learns about a call. */
export interface TranscriptionMeta {
  model: string;
  filename: string;
  /** The file part's content type. */
  contentType: string;
  language?: string;
  include: string[];
}

export interface TranscriptionLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

/** What the audio says (and, optionally, how sure the model is and how long it was)... */
export type TranscriptionOutcome =
  | { text: string; logprobs?: TranscriptionLogprob[]; seconds?: number }
  /** ...or how the API fails for it. */
  | {
      status: number;
      error?: { message?: string; type?: string; param?: string | null; code?: string | null };
    };

export type TranscriptionRule = (audio: Buffer, meta: TranscriptionMeta) => TranscriptionOutcome;

/** One call to the endpoint, as the fake received it (401s and scripted failures included). */
export interface RecordedTranscription extends Partial<TranscriptionMeta> {
  /** Bytes of the uploaded file (0 when none came). */
  bytes: number;
  audio: Buffer | undefined;
  keySuffix: string | null;
  /** The status the fake answered (0 while pending). */
  status: number;
}

/** The extensions the API accepts (its own error message lists them). */
export const TRANSCRIPTION_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'ogg', 'wav', 'webm'];
const WHISPER_MODELS = new Set(['whisper-1']);
const GPT_MODELS = new Set([
  'gpt-transcribe',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-mini-transcribe-2025-12-15',
  'gpt-4o-transcribe-diarize',
]);
const LOGPROB_MODELS = new Set([
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-mini-transcribe-2025-12-15',
]);
const MAX_BYTES = 25 * 1024 * 1024;
const MARKER = Buffer.from('SPEECH:', 'utf8');
/** Per-token probability the default rule reports (confidence ≈ 0.9). */
const DEFAULT_TOKEN_PROBABILITY = 0.9;

/**
 * The default rule: the text after `SPEECH:` up to a control byte or the next Ogg page (`OggS`),
 * silence ('') when there is no marker.
 */
export const defaultTranscriptionRule: TranscriptionRule = (audio) => {
  const start = audio.indexOf(MARKER);
  if (start < 0) return { text: '' };
  const rest = audio.subarray(start + MARKER.length);
  let end = rest.findIndex((byte) => byte < 0x20);
  if (end < 0) end = rest.length;
  const nextPage = rest.subarray(0, end).indexOf('OggS');
  return {
    text: rest
      .subarray(0, nextPage >= 0 ? nextPage : end)
      .toString('utf8')
      .trim(),
  };
};

/** A multipart body as the fake server parses it (repeated `name[]` fields become arrays). */
export interface TranscriptionForm {
  [field: string]: unknown;
  file?: { filename: string; type: string; bytes: number; data: Buffer };
}

export function recordTranscription(
  form: TranscriptionForm,
  keySuffix: string | null,
): RecordedTranscription {
  const meta = metaOf(form);
  return { ...meta, bytes: form.file?.bytes ?? 0, audio: form.file?.data, keySuffix, status: 0 };
}

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

const invalid = (status: number, message: string, param: string | null, code: string | null = null) => ({
  status,
  json: { error: { message, type: 'invalid_request_error', param, code } } satisfies ErrorBody,
});

/** The fake's answer to a transcription request that passed authentication. */
export function answerTranscription(
  form: TranscriptionForm,
  rule: TranscriptionRule,
): { status: number; json: unknown } {
  const meta = metaOf(form);
  const model = meta.model ?? '';
  if (!model) return invalid(400, "Missing required parameter: 'model'.", 'model');
  if (!WHISPER_MODELS.has(model) && !GPT_MODELS.has(model)) {
    return invalid(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      null,
      'model_not_found',
    );
  }
  const file = form.file;
  if (!file) return invalid(400, "Missing required parameter: 'file'.", 'file');
  const extension = file.filename.includes('.') ? (file.filename.split('.').pop() ?? '').toLowerCase() : '';
  if (!TRANSCRIPTION_EXTENSIONS.includes(extension)) {
    return invalid(
      400,
      `Invalid file format. Supported formats: [${TRANSCRIPTION_EXTENSIONS.map((e) => `'${e}'`).join(', ')}]`,
      'file',
      'unsupported_value',
    );
  }
  if (file.bytes === 0) return invalid(400, 'Audio file is empty or corrupted.', 'file', 'invalid_value');
  if (file.bytes > MAX_BYTES) {
    return invalid(413, `Maximum content size limit (${MAX_BYTES}) exceeded.`, 'file');
  }
  const wantsLogprobs = meta.include?.includes('logprobs') ?? false;
  if (wantsLogprobs && !LOGPROB_MODELS.has(model)) {
    return invalid(
      400,
      `logprobs are not supported with the model '${model}'.`,
      'include',
      'unsupported_value',
    );
  }
  if (meta.language !== undefined && !/^[a-z]{2}$/.test(meta.language)) {
    return invalid(
      400,
      `Invalid language '${meta.language}'. Language parameter must be specified in ISO-639-1 format.`,
      'language',
      'invalid_value',
    );
  }
  const format = typeof form.response_format === 'string' ? form.response_format : 'json';
  if (format !== 'json') {
    return invalid(400, `The fake answers response_format 'json' only, not '${format}'.`, 'response_format');
  }

  const outcome = rule(file.data, meta as TranscriptionMeta);
  if ('status' in outcome) {
    const status = outcome.status;
    return {
      status,
      json: {
        error: {
          message: outcome.error?.message ?? `Transcription failed (${status}, scripted by the test).`,
          type: outcome.error?.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
          param: outcome.error?.param ?? null,
          code: outcome.error?.code ?? null,
        },
      } satisfies ErrorBody,
    };
  }

  const seconds = outcome.seconds ?? oggOpusDurationSeconds(file.data) ?? Math.max(1, file.bytes / 16_000);
  const logprobs = wantsLogprobs ? (outcome.logprobs ?? defaultLogprobs(outcome.text)) : undefined;
  const outputTokens = Math.max(1, Math.ceil(outcome.text.length / 4));
  const audioTokens = Math.ceil(seconds * 10);
  return {
    status: 200,
    json: {
      text: outcome.text,
      ...(logprobs ? { logprobs } : {}),
      usage: WHISPER_MODELS.has(model)
        ? // whisper-1 bills whole seconds of audio.
          { type: 'duration', seconds: Math.ceil(seconds) }
        : {
            type: 'tokens',
            input_tokens: audioTokens,
            input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
            output_tokens: outputTokens,
            total_tokens: audioTokens + outputTokens,
          },
    },
  };
}

function metaOf(form: TranscriptionForm): Partial<TranscriptionMeta> & { include: string[] } {
  const include = [form['include[]'], form.include].flat().filter((v): v is string => typeof v === 'string');
  return {
    ...(typeof form.model === 'string' ? { model: form.model } : {}),
    ...(form.file ? { filename: form.file.filename, contentType: form.file.type } : {}),
    ...(typeof form.language === 'string' ? { language: form.language } : {}),
    // gpt-transcribe takes the hint as `languages[]` (possible languages): recorded as the first.
    ...(typeof form.language !== 'string' && typeof [form['languages[]']].flat()[0] === 'string'
      ? { language: [form['languages[]']].flat()[0] as string }
      : {}),
    include,
  };
}

/** One token per word (with its leading space), each as sure as DEFAULT_TOKEN_PROBABILITY. */
function defaultLogprobs(text: string): TranscriptionLogprob[] {
  const tokens = text.match(/\s*\S+/g) ?? [];
  return tokens.map((token) => ({
    token,
    logprob: Math.log(DEFAULT_TOKEN_PROBABILITY),
    bytes: [...Buffer.from(token, 'utf8')],
  }));
}
