import * as z from 'zod';

/**
 * Schemas of the operator's /clients API. They are the contract: handlers validate with them and
 * `npm run docs:api` renders them into docs/api.md.
 */

/** Bytes of a string in UTF-8, as DynamoDB (items, keys) and KMS (plaintexts) count them. */
const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/**
 * Text that is stored and shown again (names, FAQs, messages to customers). NUL and unpaired
 * surrogates are refused: they are no valid Unicode text, UTF-8 encoders silently turn surrogates
 * into U+FFFD (the stored text would differ from the accepted one) and NUL truncates text in C-based
 * consumers. `max` counts UTF-16 code units, as JavaScript's `length` does (an emoji counts 2).
 */
const storedText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => value.isWellFormed(), 'must be valid Unicode text (it has an unpaired surrogate)');

export const faqSchema = z
  .object({
    q: storedText(500).describe('The question, as a customer would ask it'),
    a: storedText(2000).describe('The answer the assistant gives'),
  })
  .strict();

/**
 * All questions and answers of a client together, in UTF-8 bytes. A client is one DynamoDB item
 * (at most 400 KB, 409,600 bytes, counted in UTF-8) that holds the FAQs once, plus its assistant's
 * instructions, which inline them only up to 12,000 characters. With every other field at its limit
 * in 3- and 4-byte characters (two 4 KB secrets as ciphertext, name, welcome message, hours,
 * instructions) a client with 256 KiB of FAQs takes about 280 KB: a test stores exactly that.
 */
export const MAX_FAQ_BYTES = 256 * 1024;

const faqBytes = (faqs: readonly Faq[]) =>
  faqs.reduce((sum, faq) => sum + utf8Bytes(faq.q) + utf8Bytes(faq.a), 0);

const faqsSchema = z
  .array(faqSchema)
  .min(1, 'at least one FAQ is required')
  .max(500)
  .superRefine((faqs, ctx) => {
    const bytes = faqBytes(faqs);
    if (bytes > MAX_FAQ_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `the questions and answers take ${bytes} bytes (UTF-8); at most ${MAX_FAQ_BYTES} bytes fit in a client`,
      });
    }
  })
  .describe(
    `The business's FAQs; questions and answers together at most ${MAX_FAQ_BYTES} bytes of UTF-8 (an emoji takes 4, most accented letters 2)`,
  );

export const languageSchema = z
  .string()
  .regex(/^[a-z]{2}$/, 'must be a two-letter ISO 639-1 code such as "es" or "en"')
  .describe('Default language of the assistant (ISO 639-1)');

const e164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +34666777888')
  .describe('The business phone number, E.164');

const phoneNumberId = z
  .string()
  .regex(/^\d{5,32}$/, 'must be the numeric phone number id Meta shows for the number')
  .describe("Meta's phone_number_id for the number; routes its webhooks to this client");

const wabaId = z
  .string()
  .regex(/^\d{5,32}$/, 'must be the numeric WhatsApp Business Account id Meta shows')
  .describe(
    'The WhatsApp Business Account (WABA) id of the number; lets the connection test check the webhook subscription',
  );

/** Seconds to wait for the rest of a burst before answering (0: answer every message at once). */
export const MAX_REPLY_DELAY_SECONDS = 30;

const replyDelaySeconds = z
  .number()
  .int()
  .min(0)
  .max(MAX_REPLY_DELAY_SECONDS)
  .describe(
    'Seconds the assistant waits after a message for the rest of a burst, then answers the burst once (default 3; 0 answers every message at once)',
  );

const handoffMinutes = z
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 60)
  .describe(
    'Minutes a chat stays with a person of the business after they last wrote in it; the bot resumes then (default 60)',
  );

/** The most media (downloads, transcriptions, images to the model) a tenant may have processed a day. */
export const MAX_MEDIA_DAILY_LIMIT = 100_000;

const mediaDailyLimit = z
  .number()
  .int()
  .min(0)
  .max(MAX_MEDIA_DAILY_LIMIT)
  .describe(
    'Voice notes, pictures and documents the assistant processes per day (UTC); past it, or at 0, they get the polite "text only" reply (default 200)',
  );

const audioMaxSeconds = z
  .number()
  .int()
  .min(5)
  .max(900)
  .describe(
    'Longest voice note or audio the assistant transcribes, in seconds; a longer one gets a polite request to write instead (default 180)',
  );

export const windowTemplateSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9_]{1,512}$/,
        'must be a template name as Meta spells it: lowercase letters, digits and _',
      ),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a template language code such as "es" or "en_US"'),
  })
  .strict()
  .describe(
    'The approved template sent when a reply falls outside the 24-hour customer service window; its body parameters are filled from the reply. Must be APPROVED on the WABA (`waba_id`)',
  );

export const channelSchema = z
  .enum(['cloud_api', 'qr'])
  .describe(
    '`cloud_api`: the official WhatsApp Cloud API (default); `qr`: an ordinary WhatsApp account linked by scanning a QR code',
  );

const retentionHours = z
  .number()
  .int()
  .min(0)
  .max(24 * 365)
  .describe('Hours messages and conversations are kept before the purge deletes them');

const maxRetentionHours = z
  .number()
  .int()
  .min(0)
  .max(24 * 365)
  .describe(
    'The most the tenant may set as its own `retention_hours` (PATCH /tenant); default 720 (30 days)',
  );

/** KMS encrypts at most 4,096 bytes of plaintext: a longer secret could be accepted but never stored. */
const MAX_SECRET_BYTES = 4096;

const secret = (what: string) =>
  z
    .string()
    .trim()
    .min(8, `${what} looks too short`)
    .max(MAX_SECRET_BYTES)
    .refine(
      (value) => utf8Bytes(value) <= MAX_SECRET_BYTES,
      `must be at most ${MAX_SECRET_BYTES} bytes (UTF-8)`,
    )
    .refine((value) => !value.includes('\u0000') && value.isWellFormed(), 'must be valid text without NUL')
    .describe(`${what}; stored encrypted, never returned`);

const createClientFields = z
  .object({
    name: storedText(200).describe('Business name'),
    phone_number: e164,
    phone_number_id: phoneNumberId
      .optional()
      .describe(
        "Meta's phone_number_id for the number; routes its webhooks to this client. Required with channel `cloud_api` (the default); with `qr` it is optional and kept for a later switch back",
      ),
    faqs: faqsSchema,
    welcome_message: storedText(1000).optional().describe("Sent on a contact's first message"),
    business_hours: storedText(500).optional().describe('Opening hours, free text'),
    email: z
      .email()
      .max(320)
      .optional()
      .describe('E-mail of the business; when given, an invitation to its landing page is sent there'),
    language: languageSchema.default('es'),
    bot_enabled: z.boolean().default(true).describe('Automatic replies on or off for the whole tenant'),
    retention_hours: retentionHours.default(24),
    max_retention_hours: maxRetentionHours.optional(),
    channel: channelSchema.optional(),
    qr_answer_groups: z
      .boolean()
      .optional()
      .describe(
        'QR mode: also answer group chats the linked account is in (off by default: a bot in a group talks to everyone)',
      ),
    waba_id: wabaId.optional(),
    reply_delay_seconds: replyDelaySeconds.optional(),
    handoff_minutes: handoffMinutes.optional(),
    media_daily_limit: mediaDailyLimit.optional(),
    audio_max_seconds: audioMaxSeconds.optional(),
    window_template: windowTemplateSchema.optional(),
    openai_model: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, 'must be a model name such as gpt-5-mini')
      .optional()
      .describe("OpenAI model of the tenant's assistant"),
    whatsapp_access_token: secret("The tenant's own WhatsApp Cloud API access token").optional(),
    openai_api_key: secret("The tenant's own OpenAI API key").optional(),
  })
  .strict();

export const createClientSchema = createClientFields.superRefine((value, ctx) => {
  if ((value.channel ?? 'cloud_api') === 'cloud_api' && value.phone_number_id === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['phone_number_id'],
      message: 'is required with channel "cloud_api" (only a QR-mode client, channel "qr", goes without one)',
    });
  }
});

export const updateClientSchema = createClientFields
  .omit({ language: true, bot_enabled: true, retention_hours: true, channel: true })
  .partial()
  .extend({
    language: languageSchema.optional(),
    bot_enabled: z.boolean().optional(),
    retention_hours: retentionHours.optional(),
    channel: channelSchema.optional(),
    phone_number_id: phoneNumberId
      .optional()
      .describe(
        'Meta\'s phone_number_id for the number. In QR mode it is kept for a later switch back; with `channel: "cloud_api"` it replaces the number the client had before QR mode',
      ),
    waba_id: wabaId.nullable().optional(),
    window_template: windowTemplateSchema.nullable().optional(),
    whatsapp_access_token: secret("The tenant's own WhatsApp Cloud API access token").nullable().optional(),
    openai_api_key: secret("The tenant's own OpenAI API key").nullable().optional(),
    active: z.boolean().optional().describe('Reactivate (true) or deactivate (false) the client'),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'the body must change at least one field' });

/** What only the operator sets: named in the 400 a tenant gets when its PATCH /tenant names them. */
export const OPERATOR_ONLY_FIELDS = [
  'active',
  'phone_number',
  'phone_number_id',
  'email',
  'max_retention_hours',
  'media_daily_limit',
] as const;

/**
 * PATCH /tenant: what a business may change itself. Secrets are write-only (`null` removes one).
 * `retention_hours` is checked against the client's `max_retention_hours` by the service.
 */
export const tenantUpdateSchema = z
  .object({
    name: storedText(200).optional().describe('Business name'),
    welcome_message: storedText(1000).optional().describe("Sent on a contact's first message"),
    business_hours: storedText(500).optional().describe('Opening hours, free text'),
    language: languageSchema.optional(),
    faqs: faqsSchema.optional(),
    bot_enabled: z.boolean().optional().describe('Automatic replies on or off'),
    channel: channelSchema.optional(),
    qr_answer_groups: z
      .boolean()
      .optional()
      .describe(
        'QR mode: also answer group chats the linked account is in (off by default: a bot in a group talks to everyone)',
      ),
    retention_hours: retentionHours.optional(),
    whatsapp_access_token: secret('Your WhatsApp Cloud API access token').nullable().optional(),
    waba_id: wabaId.nullable().optional(),
    reply_delay_seconds: replyDelaySeconds.optional(),
    handoff_minutes: handoffMinutes.optional(),
    audio_max_seconds: audioMaxSeconds.optional(),
    window_template: windowTemplateSchema.nullable().optional(),
    openai_api_key: secret('Your own OpenAI API key').nullable().optional(),
    openai_model: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, 'must be a model name such as gpt-5-mini')
      .optional()
      .describe('OpenAI model of your assistant'),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'the body must change at least one field' });

const qrStateSchema = z
  .enum(['starting', 'qr', 'linking', 'connected', 'reconnecting', 'logged_out', 'qr_expired', 'failed'])
  .describe(
    'Where the QR session is: `starting` (no report from the runner yet), `qr` (scan `qr` before `qr_expires_at`), `linking`, `connected`, `reconnecting`, `logged_out`, `qr_expired` and `failed` (ask a new QR with `…/qr/start`)',
  );

/** GET /tenant/qr: the tenant's QR session. */
export const tenantQrStatusSchema = z.object({
  state: qrStateSchema,
  qr: z.string().nullable().describe('The QR code text to render and scan (state `qr` only)'),
  qr_expires_at: z.string().nullable().describe('ISO 8601: the QR cannot be scanned from then on'),
  phone_number: z.string().nullable().describe("The linked WhatsApp account's number, once known"),
});

/** The `qr` section of GET /clients/{id} (QR-mode clients; null for Cloud API ones). */
export const operatorQrStatusSchema = tenantQrStatusSchema.extend({
  restarts: z.number().int().describe('How many times the runner restarted the session'),
  last_error: z.string().nullable().describe("The runner's last error for this session"),
  shard: z.string().nullable().describe('The shard (runner) hosting the session'),
  updated_at: z.string().nullable().describe("ISO 8601: the runner's last report; null before the first"),
});

/** GET /clients/{id}: the part of its body that only this view has. */
export const clientQrSectionSchema = z.looseObject({
  qr: operatorQrStatusSchema
    .nullable()
    .describe('The QR session of a QR-mode client; null for a Cloud API client'),
});

/** POST …/qr/start and …/qr/unlink: the command is queued for the runner. */
export const qrCommandAcceptedSchema = z.object({
  state: qrStateSchema.describe('The state before the runner acts on the command'),
});

/** POST /invitations/accept. */
export const acceptInvitationSchema = z
  .object({
    token: z.string().min(1).max(200).describe('The `invite` parameter of the invitation link'),
  })
  .strict();

/** POST /web/sessions: a key exchanged for a browser session. */
export const signInSchema = z
  .object({ key: z.string().min(1).max(200).describe('The operator key or a tenant API key') })
  .strict();

/** `?active_only=true` leaves deactivated clients out (GET /clients, GET /admin/stats). */
export const activeOnlyParam = z
  .enum(['true', 'false'], { message: 'must be "true" or "false"' })
  .optional()
  .transform((v) => v === 'true');

export const listClientsQuerySchema = z.object({ active_only: activeOnlyParam }).strict();

export const paginationQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(2048).optional().describe('The next_cursor of the previous page'),
  })
  .strict();

export const purgeRequestSchema = z
  .object({
    client_id: z
      .string()
      .min(1)
      .max(64)
      .refine((value) => value.isWellFormed(), 'must be valid Unicode text')
      .optional()
      .describe('Only this client'),
    older_than_hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 365)
      .optional()
      .describe("Overrides the clients' retention: delete what is older than this (0 = everything)"),
  })
  .strict();

export const purgeListQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(20) })
  .strict();

export type CreateClientInput = z.infer<typeof createClientSchema>;
export type UpdateClientInput = z.infer<typeof updateClientSchema>;
export type TenantUpdateInput = z.infer<typeof tenantUpdateSchema>;
export type Faq = z.infer<typeof faqSchema>;
export type WindowTemplate = z.infer<typeof windowTemplateSchema>;
export type TenantQrStatus = z.infer<typeof tenantQrStatusSchema>;
export type OperatorQrStatus = z.infer<typeof operatorQrStatusSchema>;
