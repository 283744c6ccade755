import * as z from 'zod';

/**
 * The WhatsApp Cloud API webhook body, as much of it as the product reads. Objects are loose
 * (Meta adds fields over time and an unknown field must never make us reject a delivery); what we
 * rely on is required.
 */

const mediaSchema = z.looseObject({ id: z.string().optional(), caption: z.string().optional() });

export const inboundMessageSchema = z.looseObject({
  id: z.string().min(1).max(512),
  type: z.string().min(1),
  timestamp: z.string().regex(/^\d+$/),
  from: z.string().min(1).max(64).optional(),
  from_user_id: z.string().min(1).max(128).optional(),
  context: z.looseObject({ id: z.string().optional(), from: z.string().optional() }).optional(),
  text: z.looseObject({ body: z.string() }).optional(),
  image: mediaSchema.optional(),
  video: mediaSchema.optional(),
  document: mediaSchema.extend({ filename: z.string().optional() }).optional(),
  audio: mediaSchema.optional(),
  sticker: mediaSchema.optional(),
  location: z.looseObject({ name: z.string().optional(), address: z.string().optional() }).optional(),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
      list_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
    })
    .optional(),
  button: z.looseObject({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  order: z.looseObject({ text: z.string().optional() }).optional(),
});

export const statusSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string().regex(/^\d+$/),
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  errors: z.array(z.looseObject({ code: z.number(), title: z.string().optional() })).optional(),
});

export const contactSchema = z.looseObject({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional(), username: z.string().optional() }).optional(),
});

export const changeValueSchema = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: z.looseObject({
    phone_number_id: z.string().min(1),
    display_phone_number: z.string().optional(),
  }),
  contacts: z.array(contactSchema).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.looseObject({ code: z.number() })).optional(),
});

export const webhookBodySchema = z.looseObject({
  object: z.string(),
  entry: z
    .array(
      z.looseObject({
        id: z.string(),
        changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })),
      }),
    )
    .max(1000),
});

export type InboundMessage = z.infer<typeof inboundMessageSchema>;
export type StatusUpdate = z.infer<typeof statusSchema>;
export type WebhookContact = z.infer<typeof contactSchema>;
