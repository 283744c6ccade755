/**
 * A local fake of the OpenAI API for tests: a node:http server on 127.0.0.1 that answers in OpenAI's
 * wire format, so the real `openai` client (v7) parses its answers. Point a client at it with
 * `baseURL: fake.url` (or `OPENAI_BASE_URL=fake.url`) and one of its accepted keys.
 *
 * ```ts
 * const fake = await startFakeOpenAi();               // accepts FAKE_OPENAI_KEY
 * fake.acceptKey('sk-tenant-key');                     // accept more keys (others get 401)
 * fake.queueReply('We open at 9.');                    // next /v1/responses says this
 * fake.failNext(2, { status: 429 });                   // next 2 POST /v1/responses answer 429
 * fake.failNext(1, { delayMs: 500 });                  // next one answers after 500 ms
 * fake.failNext(1, { status: 500 }, { method: 'POST', path: '/v1/files' }); // another path
 * fake.failNext(1, { omitId: true }, { method: 'POST', path: '/v1/files' }); // 200 without `id`
 * fake.requests;                                       // every request: method, path, body, keySuffix, status
 * fake.setTranscriptionRule((audio, meta) => ({ text: 'hola' }));  // what audio "says" (or { status })
 * fake.transcriptions;                                 // every transcription call: model, filename, include...
 * fake.conversations / fake.vectorStores / fake.files; // the state, by id
 * fake.reset();                                        // back to a fresh server (same url)
 * await fake.stop();
 * ```
 *
 * Served (everything under /v1):
 * - `POST /conversations`, `GET|POST|DELETE /conversations/{id}`, `GET /conversations/{id}/items`
 *   (paged: `order` default desc, `limit` default 20, `after`), `GET|DELETE /conversations/{id}/items/{item}`
 * - `POST /responses`: a completed Response whose one assistant message says the queued reply, else
 *   `"[fake-openai] " + <the input text>`; with a `file_search` tool it also lists a
 *   `file_search_call` item. Input and output are appended to the conversation's items. 404 when the
 *   conversation is unknown, 400 when a file_search vector store is unknown or a content part is
 *   one OpenAI would refuse (openai-input-parts.ts: `input_image`, `input_file`). No streaming.
 * - `POST /files` (multipart: `file`, `purpose`), `GET|DELETE /files/{id}`, `GET /files/{id}/content`
 * - `POST /audio/transcriptions` (multipart; openai-transcriptions.ts): the rule's text, refusals
 *   like the real API's (file extensions, models, `include[]=logprobs` with whisper-1)
 * - `POST /vector_stores`, `GET|DELETE /vector_stores/{id}`, `GET|POST /vector_stores/{id}/files`,
 *   `GET|DELETE /vector_stores/{id}/files/{file_id}`. Indexing is instant unless `setIndexing()`.
 *
 * Objects belong to the key that created them (like OpenAI projects): another key gets 404.
 * Errors use OpenAI's body: `{"error":{"message","type","param","code"}}`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inputPartProblem } from './openai-input-parts.ts';
import {
  answerTranscription,
  defaultTranscriptionRule,
  type RecordedTranscription,
  recordTranscription,
  type TranscriptionForm,
  type TranscriptionRule,
} from './openai-transcriptions.ts';

export type {
  RecordedTranscription,
  TranscriptionMeta,
  TranscriptionOutcome,
  TranscriptionRule,
} from './openai-transcriptions.ts';

/** The key every fake accepts unless told otherwise. */
export const FAKE_OPENAI_KEY = 'sk-fake-openai-platform-key';

/**
 * A scripted failure: an HTTP error, a slow answer (then normal), a dropped connection, or a normal
 * answer (the work done) whose object lacks its `id`, as a broken proxy or API change could send.
 */
export type FakeFailure =
  | {
      status: number;
      /** OpenAI error fields; defaults follow the status (429 → rate_limit_exceeded...). */
      code?: string | null;
      type?: string;
      message?: string;
      param?: string | null;
      headers?: Record<string, string>;
    }
  | { delayMs: number }
  | { drop: true }
  | { omitId: true };

/** Which requests a failure applies to. Default: POST /v1/responses. */
export interface FailureMatch {
  method?: string;
  /** Exact path (no query string) or a pattern. */
  path?: string | RegExp;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/responses`. */
  path: string;
  query: Record<string, string>;
  /**
   * Parsed JSON body; for multipart uploads the fields (repeated `name[]` ones as arrays) and
   * `file: { filename, type, bytes, content, data }` (`content` as UTF-8 text, `data` the bytes).
   */
  body: unknown;
  /** Last 6 characters of the bearer key (null when none was sent). */
  keySuffix: string | null;
  /** The status the fake answered (0 while pending or when the connection was dropped). */
  status: number;
  /** Whether a scripted failure (failNext) answered it. */
  injected: boolean;
}

export interface FakeItem {
  id: string;
  type: string;
  role?: string;
  /** The text of a message item (input_text / output_text parts joined). */
  text?: string;
  raw: Record<string, unknown>;
}

export interface FakeConversation {
  id: string;
  created_at: number;
  metadata: Record<string, string>;
  items: FakeItem[];
  keySuffix: string;
}

export interface FakeFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  content: string;
  created_at: number;
  keySuffix: string;
}

export interface FakeVectorStoreFile {
  id: string;
  created_at: number;
  status: 'in_progress' | 'completed' | 'failed';
  /** Retrievals left before indexing ends (see setIndexing). */
  pendingPolls: number;
  outcome: 'completed' | 'failed';
  attributes: Record<string, unknown> | null;
}

export interface FakeVectorStore {
  id: string;
  name: string;
  created_at: number;
  metadata: Record<string, string>;
  files: Map<string, FakeVectorStoreFile>;
  keySuffix: string;
}

export interface FakeOpenAi {
  /** Base URL including `/v1`, for `new OpenAI({ baseURL })` or `OPENAI_BASE_URL`. */
  url: string;
  /** The default accepted key (FAKE_OPENAI_KEY unless `startFakeOpenAi({ keys })`). */
  key: string;
  requests: RecordedRequest[];
  conversations: Map<string, FakeConversation>;
  vectorStores: Map<string, FakeVectorStore>;
  files: Map<string, FakeFile>;
  /** Accept one more bearer key (until reset). */
  acceptKey(key: string): void;
  /** The next `count` requests matching `match` (default POST /v1/responses) fail this way. */
  failNext(count: number, failure: FakeFailure, match?: FailureMatch): void;
  /** The next /v1/responses answers with this text (FIFO; '' gives an empty message). */
  queueReply(text: string): void;
  /** Every `POST /v1/audio/transcriptions` (401s and scripted failures included), oldest first. */
  readonly transcriptions: RecordedTranscription[];
  /** What audio says from now on (until reset); default: the text after `SPEECH:` in its bytes. */
  setTranscriptionRule(rule: TranscriptionRule): void;
  /** Vector-store files attached from now on stay `in_progress` for `polls` retrievals, then end so. */
  setIndexing(options: { polls?: number; outcome?: 'completed' | 'failed' }): void;
  /** Requests recorded for a method and path (exact or pattern). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[];
  /** Forget all state, scripts and extra keys; the url stays. */
  reset(): void;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const notFound = (what: string, id: string, param: string | null = null) =>
  new HttpError(404, `${what} with id '${id}' not found.`, 'invalid_request_error', param);

const nowSeconds = () => Math.floor(Date.now() / 1000);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const base62 = (length: number) => Array.from(randomBytes(length), (b) => BASE62[b % 62]).join('');

function defaultError(status: number): { type: string; code: string | null; message: string } {
  switch (status) {
    case 400:
      return {
        type: 'invalid_request_error',
        code: null,
        message: 'Invalid request (scripted by the fake).',
      };
    case 401:
      return {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: 'Incorrect API key provided.',
      };
    case 403:
      return {
        type: 'invalid_request_error',
        code: 'unsupported_country_region_territory',
        message: 'Forbidden.',
      };
    case 404:
      return { type: 'invalid_request_error', code: null, message: 'Not found (scripted by the fake).' };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: 'Rate limit reached for requests. Please try again in 20ms.',
      };
    case 503:
      return { type: 'server_error', code: null, message: 'The server is overloaded or not ready yet.' };
    default:
      return status >= 500
        ? {
            type: 'server_error',
            code: null,
            message: 'The server had an error while processing your request.',
          }
        : { type: 'invalid_request_error', code: null, message: `Error ${status} (scripted by the fake).` };
  }
}

function pathMatches(match: FailureMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? match.path === path : match.path.test(path);
}

/** Text of a Responses `input`: a string, or the text parts of its message items. */
function inputItems(input: unknown): Array<{ role: string; text: string; raw: Record<string, unknown> }> {
  if (typeof input === 'string')
    return [{ role: 'user', text: input, raw: { role: 'user', content: input } }];
  if (!Array.isArray(input)) return [];
  const out: Array<{ role: string; text: string; raw: Record<string, unknown> }> = [];
  for (const item of input) {
    if (!item || typeof item !== 'object') continue;
    const record = item as Record<string, unknown>;
    const role = typeof record.role === 'string' ? record.role : 'user';
    const content = record.content;
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content
              .map((part) =>
                part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
                  ? (part as { text: string }).text
                  : '',
              )
              .join('')
          : '';
    out.push({ role, text, raw: record });
  }
  return out;
}

function validateMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined || metadata === null) return {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new HttpError(
      400,
      'Invalid type for metadata: expected an object.',
      'invalid_request_error',
      'metadata',
    );
  }
  const entries = Object.entries(metadata as Record<string, unknown>);
  if (entries.length > 16) {
    throw new HttpError(400, 'Invalid metadata: at most 16 pairs.', 'invalid_request_error', 'metadata');
  }
  for (const [key, value] of entries) {
    if (key.length > 64 || typeof value !== 'string' || value.length > 512) {
      throw new HttpError(
        400,
        `Invalid metadata '${key}': keys up to 64 characters, values strings up to 512.`,
        'invalid_request_error',
        'metadata',
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * A conversation item as OpenAI lists it: message content as typed parts (`input_text` for what was
 * sent, `output_text` for the model's), with `status`; other items as the response gave them.
 */
function itemView(item: FakeItem): Record<string, unknown> {
  if (item.type !== 'message') return { ...item.raw, id: item.id, type: item.type };
  const content = item.raw.content;
  const parts = Array.isArray(content)
    ? content
    : [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.text ?? '' }];
  return { id: item.id, type: 'message', status: 'completed', role: item.role ?? 'user', content: parts };
}

/**
 * One page of `GET /conversations/{id}/items`, as OpenAI pages it: `order` (default `desc`, newest
 * first), `limit` (1 to 100, default 20), `after` (the id after which the page starts, in that
 * order); `first_id`, `last_id` and `has_more` for the next page.
 */
function itemsPage(conversation: FakeConversation, query: Record<string, string>) {
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw new HttpError(400, `Invalid value for 'order': '${order}'.`, 'invalid_request_error', 'order');
  }
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new HttpError(400, "Invalid 'limit': between 1 and 100.", 'invalid_request_error', 'limit');
  }
  const ordered = order === 'asc' ? [...conversation.items] : [...conversation.items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const index = ordered.findIndex((item) => item.id === query.after);
    if (index < 0) throw notFound('Item', query.after, 'after');
    start = index + 1;
  }
  const data = ordered.slice(start, start + limit).map(itemView);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}

export async function startFakeOpenAi(options: { keys?: string[] } = {}): Promise<FakeOpenAi> {
  const initialKeys = options.keys?.length ? options.keys : [FAKE_OPENAI_KEY];
  const acceptedKeys = new Set(initialKeys);
  const failures: Array<{ remaining: number; failure: FakeFailure; match: FailureMatch }> = [];
  const replies: string[] = [];
  let indexing: { polls: number; outcome: 'completed' | 'failed' } = { polls: 0, outcome: 'completed' };
  let transcriptionRule: TranscriptionRule = defaultTranscriptionRule;
  const transcriptions: RecordedTranscription[] = [];
  const owners = new Map<string, string>(); // object id → full key that created it
  const pendingTimers = new Set<NodeJS.Timeout>();

  const requests: RecordedRequest[] = [];
  const conversations = new Map<string, FakeConversation>();
  const vectorStores = new Map<string, FakeVectorStore>();
  const files = new Map<string, FakeFile>();

  const owned = <T>(
    map: Map<string, T>,
    id: string,
    key: string,
    what: string,
    param: string | null = null,
  ): T => {
    const found = map.get(id);
    if (!found || owners.get(id) !== key) throw notFound(what, id, param);
    return found;
  };

  const conversationView = (c: FakeConversation) => ({
    id: c.id,
    object: 'conversation',
    created_at: c.created_at,
    metadata: c.metadata,
  });
  const fileView = (f: FakeFile) => ({
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: f.created_at,
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
    expires_at: null,
    status_details: null,
  });
  const vsFileView = (storeId: string, f: FakeVectorStoreFile) => ({
    id: f.id,
    object: 'vector_store.file',
    created_at: f.created_at,
    usage_bytes: files.get(f.id)?.bytes ?? 0,
    vector_store_id: storeId,
    status: f.status,
    last_error:
      f.status === 'failed' ? { code: 'invalid_file', message: 'The file could not be parsed.' } : null,
    chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } },
    attributes: f.attributes,
  });
  const vectorStoreView = (s: FakeVectorStore) => {
    const all = [...s.files.values()];
    const count = (status: string) => all.filter((f) => f.status === status).length;
    return {
      id: s.id,
      object: 'vector_store',
      created_at: s.created_at,
      name: s.name,
      usage_bytes: all.reduce((sum, f) => sum + (files.get(f.id)?.bytes ?? 0), 0),
      file_counts: {
        in_progress: count('in_progress'),
        completed: count('completed'),
        failed: count('failed'),
        cancelled: 0,
        total: all.length,
      },
      status: count('in_progress') > 0 ? 'in_progress' : 'completed',
      last_active_at: nowSeconds(),
      metadata: s.metadata,
      expires_after: null,
      expires_at: null,
    };
  };
  /** A retrieval advances indexing by one poll. */
  const pollFile = (f: FakeVectorStoreFile) => {
    if (f.status !== 'in_progress') return;
    if (f.pendingPolls > 0) f.pendingPolls -= 1;
    else f.status = f.outcome;
  };
  const attachFile = (store: FakeVectorStore, fileId: string, key: string, attributes: unknown) => {
    const file = files.get(fileId);
    if (!file || owners.get(fileId) !== key) {
      throw new HttpError(400, `File '${fileId}' not found.`, 'invalid_request_error', 'file_id');
    }
    const existing = store.files.get(fileId);
    if (existing) return existing;
    const attached: FakeVectorStoreFile = {
      id: fileId,
      created_at: nowSeconds(),
      status: indexing.polls > 0 ? 'in_progress' : indexing.outcome,
      pendingPolls: indexing.polls,
      outcome: indexing.outcome,
      attributes:
        attributes && typeof attributes === 'object' ? (attributes as Record<string, unknown>) : null,
    };
    store.files.set(fileId, attached);
    return attached;
  };

  function createResponse(body: Record<string, unknown>, key: string) {
    if (typeof body.model !== 'string' || !body.model) {
      throw new HttpError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'model');
    }
    if (body.stream === true)
      throw new HttpError(400, 'The fake does not stream.', 'invalid_request_error', 'stream');
    if (body.input === undefined) {
      throw new HttpError(400, "Missing required parameter: 'input'.", 'invalid_request_error', 'input');
    }
    const badPart = inputPartProblem(body.input);
    if (badPart) throw new HttpError(400, badPart.message, 'invalid_request_error', badPart.param);
    const rawConversation = body.conversation;
    const conversationId =
      typeof rawConversation === 'string'
        ? rawConversation
        : rawConversation && typeof rawConversation === 'object'
          ? String((rawConversation as { id?: unknown }).id ?? '')
          : undefined;
    if (conversationId !== undefined && body.previous_response_id) {
      throw new HttpError(
        400,
        "Mutually exclusive parameters: 'conversation' and 'previous_response_id'.",
        'invalid_request_error',
        'conversation',
      );
    }
    const conversation =
      conversationId === undefined
        ? undefined
        : owned(conversations, conversationId, key, 'Conversation', 'conversation');

    const tools = Array.isArray(body.tools) ? (body.tools as Array<Record<string, unknown>>) : [];
    const fileSearch = tools.find((tool) => tool.type === 'file_search');
    if (fileSearch) {
      const ids = fileSearch.vector_store_ids;
      if (!Array.isArray(ids) || ids.length === 0) {
        throw new HttpError(400, 'file_search needs vector_store_ids.', 'invalid_request_error', 'tools');
      }
      for (const id of ids) {
        if (typeof id !== 'string' || !vectorStores.has(id) || owners.get(id) !== key) {
          throw new HttpError(
            400,
            `Vector store with id '${String(id)}' not found.`,
            'invalid_request_error',
            'tools',
          );
        }
      }
    }

    const inputs = inputItems(body.input);
    const lastUser = [...inputs].reverse().find((item) => item.role === 'user');
    const text = replies.length > 0 ? (replies.shift() ?? '') : `[fake-openai] ${lastUser?.text ?? ''}`;
    const createdAt = nowSeconds();
    const output: Array<Record<string, unknown>> = [];
    if (fileSearch) {
      output.push({
        id: `fs_${hex(24)}`,
        type: 'file_search_call',
        status: 'completed',
        queries: [lastUser?.text ?? ''],
        results: null,
      });
    }
    output.push({
      id: `msg_${hex(24)}`,
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    });
    const inputTokens = Math.ceil(
      (String(body.instructions ?? '').length + inputs.reduce((n, i) => n + i.text.length, 0)) / 4,
    );
    const outputTokens = Math.ceil(text.length / 4);

    if (conversation) {
      for (const item of inputs) {
        conversation.items.push({
          id: `msg_${hex(24)}`,
          type: 'message',
          role: item.role,
          text: item.text,
          raw: { type: 'message', ...item.raw },
        });
      }
      for (const item of output) {
        const content = item.content as Array<{ text: string }> | undefined;
        conversation.items.push({
          id: String(item.id),
          type: String(item.type),
          ...(item.role ? { role: String(item.role) } : {}),
          ...(content ? { text: content.map((c) => c.text).join('') } : {}),
          raw: item,
        });
      }
    }
    return {
      id: `resp_${hex(24)}`,
      object: 'response',
      created_at: createdAt,
      status: 'completed',
      completed_at: createdAt,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      max_tool_calls: null,
      model: body.model,
      output,
      parallel_tool_calls: true,
      previous_response_id: body.previous_response_id ?? null,
      conversation: conversation ? { id: conversation.id } : null,
      reasoning: { effort: null, summary: null },
      safety_identifier: body.safety_identifier ?? null,
      service_tier: 'default',
      store: body.store ?? true,
      temperature: 1,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tool_choice: 'auto',
      tools,
      top_p: 1,
      truncation: 'disabled',
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
      user: null,
      metadata: validateMetadata(body.metadata),
    };
  }

  async function route(
    method: string,
    path: string,
    body: unknown,
    key: string,
    keySuffix: string,
    query: Record<string, string> = {},
  ): Promise<{ status?: number; json?: unknown; text?: string }> {
    const json = (body ?? {}) as Record<string, unknown>;
    const parts = path.split('/').filter(Boolean); // ['v1', 'resource', ...]
    if (parts[0] !== 'v1') throw new HttpError(404, `Invalid URL (${method} ${path})`);
    const [, resource, id, sub, subId] = parts;

    // The cheapest authenticated call (the connection test's key check).
    if (resource === 'models' && !id && method === 'GET') {
      return {
        json: {
          object: 'list',
          data: [{ id: 'gpt-5-mini', object: 'model', created: 1_754_000_000, owned_by: 'openai' }],
        },
      };
    }

    if (resource === 'conversations') {
      if (!id && method === 'POST') {
        const conversation: FakeConversation = {
          id: `conv_${hex(24)}`,
          created_at: nowSeconds(),
          metadata: validateMetadata(json.metadata),
          items: [],
          keySuffix,
        };
        for (const item of inputItems(json.items)) {
          conversation.items.push({
            id: `msg_${hex(24)}`,
            type: 'message',
            role: item.role,
            text: item.text,
            raw: item.raw,
          });
        }
        conversations.set(conversation.id, conversation);
        owners.set(conversation.id, key);
        return { json: conversationView(conversation) };
      }
      if (id && !sub) {
        const conversation = owned(conversations, id, key, 'Conversation');
        if (method === 'GET') return { json: conversationView(conversation) };
        if (method === 'POST') {
          conversation.metadata = validateMetadata(json.metadata);
          return { json: conversationView(conversation) };
        }
        if (method === 'DELETE') {
          conversations.delete(id);
          owners.delete(id);
          return { json: { id, object: 'conversation.deleted', deleted: true } };
        }
      }
      if (id && sub === 'items' && !subId && method === 'GET') {
        const conversation = owned(conversations, id, key, 'Conversation');
        return { json: itemsPage(conversation, query) };
      }
      if (id && sub === 'items' && subId && (method === 'GET' || method === 'DELETE')) {
        const conversation = owned(conversations, id, key, 'Conversation');
        const index = conversation.items.findIndex((item) => item.id === subId);
        const item = conversation.items[index];
        if (!item) throw notFound('Item', subId);
        if (method === 'GET') return { json: itemView(item) };
        conversation.items.splice(index, 1);
        // OpenAI answers an item's deletion with the conversation it was deleted from.
        return { json: conversationView(conversation) };
      }
    }

    if (resource === 'responses' && !id && method === 'POST') {
      return { json: createResponse(json, key) };
    }

    if (resource === 'audio' && id === 'transcriptions' && !sub && method === 'POST') {
      return answerTranscription(json as TranscriptionForm, transcriptionRule);
    }

    if (resource === 'files') {
      if (!id && method === 'POST') {
        const upload = body as {
          purpose?: unknown;
          file?: { filename: string; bytes: number; content: string };
        };
        if (!upload.file)
          throw new HttpError(400, "Missing required parameter: 'file'.", 'invalid_request_error', 'file');
        const purposes = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
        if (typeof upload.purpose !== 'string' || !purposes.includes(upload.purpose)) {
          throw new HttpError(400, "Invalid value for 'purpose'.", 'invalid_request_error', 'purpose');
        }
        const file: FakeFile = {
          id: `file-${base62(22)}`,
          filename: upload.file.filename,
          purpose: upload.purpose,
          bytes: upload.file.bytes,
          content: upload.file.content,
          created_at: nowSeconds(),
          keySuffix,
        };
        files.set(file.id, file);
        owners.set(file.id, key);
        return { json: fileView(file) };
      }
      if (id && !sub) {
        const file = owned(files, id, key, 'File');
        if (method === 'GET') return { json: fileView(file) };
        if (method === 'DELETE') {
          files.delete(id);
          owners.delete(id);
          return { json: { id, object: 'file', deleted: true } };
        }
      }
      if (id && sub === 'content' && method === 'GET') {
        return { text: owned(files, id, key, 'File').content };
      }
    }

    if (resource === 'vector_stores') {
      if (!id && method === 'POST') {
        const store: FakeVectorStore = {
          id: `vs_${hex(16)}`,
          name: typeof json.name === 'string' ? json.name : '',
          created_at: nowSeconds(),
          metadata: validateMetadata(json.metadata),
          files: new Map(),
          keySuffix,
        };
        const fileIds = Array.isArray(json.file_ids) ? json.file_ids : [];
        for (const fileId of fileIds) attachFile(store, String(fileId), key, null);
        vectorStores.set(store.id, store);
        owners.set(store.id, key);
        return { json: vectorStoreView(store) };
      }
      if (id && !sub) {
        const store = owned(vectorStores, id, key, 'Vector store');
        if (method === 'GET') {
          for (const f of store.files.values()) pollFile(f);
          return { json: vectorStoreView(store) };
        }
        if (method === 'DELETE') {
          vectorStores.delete(id);
          owners.delete(id);
          return { json: { id, object: 'vector_store.deleted', deleted: true } };
        }
      }
      if (id && sub === 'files') {
        const store = owned(vectorStores, id, key, 'Vector store');
        if (!subId && method === 'POST') {
          if (typeof json.file_id !== 'string') {
            throw new HttpError(
              400,
              "Missing required parameter: 'file_id'.",
              'invalid_request_error',
              'file_id',
            );
          }
          return { json: vsFileView(id, attachFile(store, json.file_id, key, json.attributes)) };
        }
        if (!subId && method === 'GET') {
          const data = [...store.files.values()].map((f) => vsFileView(id, f));
          return {
            json: {
              object: 'list',
              data,
              first_id: data[0]?.id ?? null,
              last_id: data.at(-1)?.id ?? null,
              has_more: false,
            },
          };
        }
        if (subId) {
          const attached = store.files.get(subId);
          if (!attached) throw notFound('Vector store file', subId);
          if (method === 'GET') {
            pollFile(attached);
            return { json: vsFileView(id, attached) };
          }
          if (method === 'DELETE') {
            store.files.delete(subId);
            return { json: { id: subId, object: 'vector_store.file.deleted', deleted: true } };
          }
        }
      }
    }
    throw new HttpError(404, `Invalid URL (${method} ${path})`);
  }

  async function parseBody(req: IncomingMessage, raw: Buffer, path: string): Promise<unknown> {
    if (raw.length === 0) return undefined;
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request(`http://fake${path}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
      const file = form.get('file');
      const result: Record<string, unknown> = {};
      for (const [name, value] of form.entries()) {
        if (typeof value !== 'string') continue;
        // Arrays come as repeated `name[]` fields (how the SDK sends `include`).
        if (name.endsWith('[]')) result[name] = [...((result[name] as string[] | undefined) ?? []), value];
        else result[name] = value;
      }
      if (file && typeof file !== 'string') {
        const data = Buffer.from(await file.arrayBuffer());
        result.file = {
          filename: file.name,
          type: file.type,
          bytes: file.size,
          content: data.toString('utf8'),
          data,
        };
      }
      return result;
    }
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'We could not parse the JSON body of your request.');
    }
  }

  const send = (
    res: ServerResponse,
    status: number,
    payload: { json?: unknown; text?: string },
    headers = {},
  ) => {
    if (res.destroyed || res.writableEnded) return;
    const isText = payload.text !== undefined;
    const data = isText ? (payload.text ?? '') : JSON.stringify(payload.json ?? {});
    res.writeHead(status, {
      'content-type': isText ? 'application/octet-stream' : 'application/json',
      'x-request-id': `req_${hex(16)}`,
      'openai-processing-ms': '1',
      ...headers,
    });
    res.end(data);
  };
  const sendError = (res: ServerResponse, error: HttpError, headers = {}) =>
    send(
      res,
      error.status,
      { json: { error: { message: error.message, type: error.type, param: error.param, code: error.code } } },
      headers,
    );

  const wait = (ms: number, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve();
      }, ms);
      pendingTimers.add(timer);
      res.once('close', () => {
        clearTimeout(timer);
        pendingTimers.delete(timer);
        resolve();
      });
    });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    const authorization = req.headers.authorization ?? '';
    const key = authorization.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : '';
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      keySuffix: key ? key.slice(-6) : null,
      status: 0,
      injected: false,
    };
    requests.push(record);
    let transcription: RecordedTranscription | undefined;
    const answer = (status: number, payload: { json?: unknown; text?: string }, headers = {}) => {
      record.status = status;
      if (transcription) transcription.status = status;
      send(res, status, payload, headers);
    };
    const answerError = (error: HttpError, headers = {}) => {
      record.status = error.status;
      if (transcription) transcription.status = error.status;
      sendError(res, error, headers);
    };

    try {
      record.body = await parseBody(req, raw, path);
    } catch (error) {
      answerError(error instanceof HttpError ? error : new HttpError(400, 'Invalid body.'));
      return;
    }
    if (method === 'POST' && path === '/v1/audio/transcriptions') {
      transcription = recordTranscription((record.body ?? {}) as TranscriptionForm, record.keySuffix);
      transcriptions.push(transcription);
    }

    if (!key) {
      answerError(
        new HttpError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        ),
      );
      return;
    }
    if (!acceptedKeys.has(key)) {
      answerError(
        new HttpError(
          401,
          `Incorrect API key provided: ${key.slice(0, 3)}*****${key.slice(-4)}.`,
          'invalid_request_error',
          null,
          'invalid_api_key',
        ),
      );
      return;
    }

    const scripted = failures.find((f) => f.remaining > 0 && pathMatches(f.match, method, path));
    let omitId = false;
    if (scripted) {
      scripted.remaining -= 1;
      const failure = scripted.failure;
      if ('omitId' in failure) {
        record.injected = true;
        omitId = true;
      } else if ('drop' in failure) {
        record.injected = true;
        req.socket.destroy();
        return;
      } else if ('delayMs' in failure) {
        await wait(failure.delayMs, res);
        // The client gave up (timeout): do nothing, as if the work never happened.
        if (res.destroyed || req.socket.destroyed) return;
      } else {
        record.injected = true;
        const defaults = defaultError(failure.status);
        answerError(
          new HttpError(
            failure.status,
            failure.message ?? defaults.message,
            failure.type ?? defaults.type,
            failure.param ?? null,
            failure.code === undefined ? defaults.code : failure.code,
          ),
          failure.headers ?? {},
        );
        return;
      }
    }

    try {
      const result = await route(method, path, record.body, key, key.slice(-6), record.query);
      if (omitId && result.json && typeof result.json === 'object') {
        const { id: _omitted, ...withoutId } = result.json as Record<string, unknown>;
        result.json = withoutId;
      }
      answer(result.status ?? 200, result);
    } catch (error) {
      if (error instanceof HttpError) answerError(error);
      else
        answerError(
          new HttpError(500, error instanceof Error ? error.message : 'fake failure', 'server_error'),
        );
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { message: 'fake crashed', type: 'server_error', param: null, code: null },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeOpenAi = {
    url: `http://127.0.0.1:${port}/v1`,
    key: initialKeys[0] ?? FAKE_OPENAI_KEY,
    requests,
    conversations,
    vectorStores,
    files,
    acceptKey(key) {
      acceptedKeys.add(key);
    },
    failNext(count, failure, match = { method: 'POST', path: '/v1/responses' }) {
      if (count > 0) failures.push({ remaining: count, failure, match });
    },
    queueReply(text) {
      replies.push(text);
    },
    transcriptions,
    setTranscriptionRule(rule) {
      transcriptionRule = rule;
    },
    setIndexing(next) {
      indexing = { polls: next.polls ?? 0, outcome: next.outcome ?? 'completed' };
    },
    requestsTo(method, path) {
      return requests.filter((r) => pathMatches({ method, path }, r.method, r.path));
    },
    reset() {
      requests.length = 0;
      conversations.clear();
      vectorStores.clear();
      files.clear();
      owners.clear();
      failures.length = 0;
      replies.length = 0;
      indexing = { polls: 0, outcome: 'completed' };
      transcriptionRule = defaultTranscriptionRule;
      transcriptions.length = 0;
      acceptedKeys.clear();
      for (const key of initialKeys) acceptedKeys.add(key);
    },
    async stop() {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
