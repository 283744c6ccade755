import * as z from 'zod';

/**
 * Schemas of the operator's /clients API. They are the contract: handlers validate with them and
 * `npm run docs:api` renders them into docs/api.md.
 */

const trimmed = (max: number) => z.string().trim().min(1).max(max);

export const faqSchema = z
  .object({
    q: trimmed(500).describe('The question, as a customer would ask it'),
    a: trimmed(2000).describe('The answer the assistant gives'),
  })
  .strict();

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

const secret = (what: string) =>
  z
    .string()
    .trim()
    .min(8, `${what} looks too short`)
    .max(4096)
    .describe(`${what}; stored encrypted, never returned`);

export const createClientSchema = z
  .object({
    name: trimmed(200).describe('Business name'),
    phone_number: e164,
    phone_number_id: phoneNumberId,
    faqs: z.array(faqSchema).min(1, 'at least one FAQ is required').max(500),
    welcome_message: trimmed(1000).optional().describe("Sent on a contact's first message"),
    business_hours: trimmed(500).optional().describe('Opening hours, free text'),
    email: z.email().max(320).optional().describe('Contact e-mail of the business'),
    language: languageSchema.default('es'),
    bot_enabled: z.boolean().default(true).describe('Automatic replies on or off for the whole tenant'),
    retention_hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 365)
      .default(24)
      .describe('Hours messages and conversations are kept before the purge deletes them'),
    openai_model: z
      .string()
      .regex(/^[\w.:-]{1,100}$/, 'must be a model name such as gpt-5-mini')
      .optional()
      .describe("OpenAI model of the tenant's assistant"),
    whatsapp_access_token: secret("The tenant's own WhatsApp Cloud API access token").optional(),
    openai_api_key: secret("The tenant's own OpenAI API key").optional(),
  })
  .strict();

export const updateClientSchema = createClientSchema
  .omit({ language: true, bot_enabled: true, retention_hours: true })
  .partial()
  .extend({
    language: languageSchema.optional(),
    bot_enabled: z.boolean().optional(),
    retention_hours: z
      .number()
      .int()
      .min(0)
      .max(24 * 365)
      .optional()
      .describe('Hours messages and conversations are kept before the purge deletes them'),
    whatsapp_access_token: secret("The tenant's own WhatsApp Cloud API access token").nullable().optional(),
    openai_api_key: secret("The tenant's own OpenAI API key").nullable().optional(),
    active: z.boolean().optional().describe('Reactivate (true) or deactivate (false) the client'),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'the body must change at least one field' });

export const listClientsQuerySchema = z
  .object({
    active_only: z
      .enum(['true', 'false'], { message: 'must be "true" or "false"' })
      .optional()
      .transform((v) => v === 'true'),
  })
  .strict();

export const paginationQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(2048).optional().describe('The next_cursor of the previous page'),
  })
  .strict();

export const purgeRequestSchema = z
  .object({
    client_id: z.string().min(1).max(64).optional().describe('Only this client'),
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
export type Faq = z.infer<typeof faqSchema>;
