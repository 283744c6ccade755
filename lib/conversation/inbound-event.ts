import * as z from 'zod';

/**
 * The contract of the inbound queue: what the webhook (and the QR runner) put on it, what the
 * assistant function reads. Versioned so producers and consumers can be deployed apart.
 */

export const contactRefSchema = z.object({
  /** Our key for the contact within the tenant: the business-scoped user id, else the wa_id. */
  key: z.string().min(1),
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  name: z.string().optional(),
});

export const inboundMessageEventSchema = z.object({
  v: z.literal(1),
  kind: z.literal('message'),
  tenant_id: z.string().min(1),
  phone_number_id: z.string().min(1),
  contact: contactRefSchema,
  message: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    /** Epoch seconds, as Meta sends it. */
    timestamp: z.number().int(),
    /** The readable text of the message (body, caption, button title...), when it has one. */
    text: z.string().optional(),
    context_id: z.string().optional(),
  }),
  received_at: z.string(),
});

export const statusEventSchema = z.object({
  v: z.literal(1),
  kind: z.literal('status'),
  tenant_id: z.string().min(1),
  phone_number_id: z.string().min(1),
  contact_key: z.string().optional(),
  status: z.object({
    message_id: z.string().min(1),
    status: z.string().min(1),
    timestamp: z.number().int(),
    error_codes: z.array(z.number()).default([]),
  }),
  received_at: z.string(),
});

export const queueEventSchema = z.discriminatedUnion('kind', [inboundMessageEventSchema, statusEventSchema]);

export type ContactRef = z.infer<typeof contactRefSchema>;
export type InboundMessageEvent = z.infer<typeof inboundMessageEventSchema>;
export type StatusEvent = z.infer<typeof statusEventSchema>;
export type QueueEvent = z.infer<typeof queueEventSchema>;

/** FIFO group: one per tenant and contact, so a contact's messages are answered in order. */
export const messageGroupId = (tenantId: string, contactKey: string) => `${tenantId}:${contactKey}`;
