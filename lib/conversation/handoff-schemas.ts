import * as z from 'zod';

/**
 * The handoff routes' contract (`POST`/`DELETE …/conversations/{contact}/handoff`): handlers
 * validate with these and `npm run docs:api` renders them. Whether `until` is in the future and
 * within MAX_HANDOFF_DAYS is checked by the handler, against its clock (handoff-routes.ts).
 */

const HANDOFF_BY = ['person', 'customer_request', 'operator', 'tenant'] as const;

export const handoffRequestSchema = z
  .object({
    until: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'When the bot may answer again (ISO 8601, in the future, at most 30 days ahead); default: now + the tenant’s handoff_minutes',
      ),
  })
  .strict();

/** A chat's handoff as every view shows it: null when the bot has the chat. */
export const handoffViewSchema = z
  .object({
    by: z.enum(HANDOFF_BY).describe('Who took the chat'),
    until: z.string().describe('When the bot answers again by itself (ISO 8601)'),
  })
  .nullable();

export const handoffResponseSchema = z.object({
  contact: z.string(),
  handoff: handoffViewSchema,
});
