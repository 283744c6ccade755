import * as z from 'zod';

/**
 * The contract of GET /tenant/templates and GET /clients/{id}/templates: the query and the answer
 * (docs/api.md is rendered from them; the integration tests parse real answers with them).
 */

export const templatesQuerySchema = z
  .object({
    refresh: z
      .enum(['true', 'false'], { message: 'must be "true" or "false"' })
      .optional()
      .transform((value) => value === 'true')
      .describe("`true` reads Meta's list now instead of the copy cached for up to 5 minutes"),
  })
  .strict();

export const templateViewSchema = z
  .object({
    name: z.string(),
    language: z.string().describe('e.g. `es`, `en_US`'),
    status: z.string().describe('Always `APPROVED`: only approved templates are listed'),
    category: z.string().nullable().describe('`UTILITY`, `MARKETING`, `AUTHENTICATION`'),
    body_parameters: z
      .number()
      .int()
      .min(0)
      .describe(
        "Parameters of its body (`{{1}}`…): a reply outside the window fills them with the reply's text",
      ),
  })
  .strict();

export const templatesResponseSchema = z
  .object({
    waba_id: z.string(),
    templates: z.array(templateViewSchema),
    fetched_at: z.iso.datetime().describe("When Meta's list was read"),
    cached: z.boolean().describe('Whether it came from the cache (up to 5 minutes old)'),
    window_template: z
      .object({ name: z.string(), language: z.string() })
      .nullable()
      .describe("The tenant's `window_template`, if set"),
  })
  .strict();

export type TemplatesResponse = z.output<typeof templatesResponseSchema>;
