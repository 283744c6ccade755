import type { AssistantRecord } from '../tenants/client.ts';
import type { Faq } from '../tenants/client-schemas.ts';

/**
 * Ports of the conversation use case: what it needs from the outside world. Adapters live in
 * lib/openai, lib/responders and lib/whatsapp; tests pass fakes or point the adapters at local servers.
 */

/** What a responder knows about the tenant it answers for. */
export interface ResponderTenant {
  id: string;
  name: string;
  language: string;
  faqs: Faq[];
  business_hours?: string;
  assistant: AssistantRecord;
  /** The tenant's own OpenAI key (decrypted), when it brought one. */
  openaiApiKey?: string;
}

export interface ResponderRequest {
  tenant: ResponderTenant;
  contact: {
    /** Our contact key (business-scoped user id when present, else wa_id). */
    key: string;
    /** The OpenAI conversation of this contact, once created. */
    conversationId?: string;
  };
  /** What the customer wrote (text, caption, button title...). */
  text: string;
  /** Epoch ms by which the reply must be ready (the rest of the invocation is for sending). */
  deadline?: number;
}

export interface ResponderReply {
  text: string;
  source: 'openai' | 'faq';
  /** Set by the OpenAI responder when it created or used a conversation: store it on the contact. */
  conversationId?: string;
  /** The FAQ responder's confidence in [0, 1]; below its threshold it declines. */
  confidence?: number;
  /** Why the OpenAI responder was not used for this reply (fallback). */
  fallbackReason?: string;
}

export interface Responder {
  reply(request: ResponderRequest): Promise<ResponderReply>;
}

/** Who a WhatsApp message goes to: the business-scoped user id when known, else the phone (wa_id). */
export interface Recipient {
  user_id?: string;
  wa_id?: string;
}

export interface SendTextRequest {
  phoneNumberId: string;
  accessToken: string;
  to: Recipient;
  text: string;
  /** wamid of the customer's message to reply to in context. */
  replyTo?: string;
}

export interface MarkReadRequest {
  phoneNumberId: string;
  accessToken: string;
  messageId: string;
  /** Also show the typing indicator while the reply is prepared. */
  typing: boolean;
}

export interface WhatsAppSender {
  /** Sends one text message (≤ 4096 characters); resolves with the new message's wamid. */
  sendText(request: SendTextRequest): Promise<{ messageId: string }>;
  markRead(request: MarkReadRequest): Promise<void>;
}
