import { randomBytes } from 'node:crypto';
import type { Faq } from './client-schemas.ts';

/** Lifecycle of a tenant's assistant record (ours; built by the provisioner). */
export type AssistantStatus = 'pending' | 'ready' | 'failed';

/**
 * The tenant's assistant: our own versioned record (the OpenAI Assistants API is shut down).
 * The responder reads it on every message; the provisioner rebuilds it when the FAQs change.
 */
export interface AssistantRecord {
  id: string;
  version: number;
  model: string;
  instructions: string;
  vector_store_id?: string;
  vector_store_file_id?: string;
  status: AssistantStatus;
  status_reason?: string;
  updated_at: string;
}

/** A tenant as stored (secrets only in encrypted form). */
export interface Client {
  id: string;
  slug: string;
  name: string;
  phone_number: string;
  phone_number_id: string;
  faqs: Faq[];
  welcome_message?: string;
  business_hours?: string;
  email?: string;
  language: string;
  bot_enabled: boolean;
  /** Hours messages and conversations are kept (the purge enforces it); absent on old records = 24. */
  retention_hours?: number;
  openai_model?: string;
  active: boolean;
  created_at: string;
  updated_at: string;
  deactivated_at?: string;
  assistant: AssistantRecord;
  /** Encrypted with the SecretBox; never returned. */
  whatsapp_access_token_enc?: string;
  openai_api_key_enc?: string;
  /** Set when Graph answered 190 (token expired or revoked). */
  credentials_status: 'ok' | 'invalid';
  credentials_status_reason?: string;
  /** Set when Graph answered 131048 (spam rate limit): no sends until cleared. */
  sending_paused_until?: string;
  sending_paused_reason?: string;
}

export const clientKeys = {
  profile: (clientId: string) => ({ pk: `CLIENT#${clientId}`, sk: 'PROFILE' }),
  /** One item per phone_number_id: makes the number unique among active clients and routes webhooks. */
  phoneRoute: (phoneNumberId: string) => ({ pk: `PHONE#${phoneNumberId}`, sk: 'ROUTE' }),
  /** Index partition listing every client by creation time. */
  listPartition: 'CLIENTS',
};

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random identifier of `length` lowercase alphanumerics (unbiased). */
export function randomId(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export const newClientId = (): string => `cl_${randomId(16)}`;
/** Landing slugs are unguessable: 26 random characters (~134 bits). */
export const newLandingSlug = (): string => randomId(26);
export const newAssistantId = (): string => `asst_${randomId(20)}`;

/** The public view of a client: no secrets, only whether they are set. */
export function toClientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
    phone_number: client.phone_number,
    phone_number_id: client.phone_number_id,
    assistant_id: client.assistant.id,
    assistant_version: client.assistant.version,
    assistant_status: client.assistant.status,
    assistant_status_reason: client.assistant.status_reason ?? null,
    active: client.active,
    created_at: client.created_at,
    updated_at: client.updated_at,
    welcome_message: client.welcome_message ?? null,
    business_hours: client.business_hours ?? null,
    email: client.email ?? null,
    language: client.language,
    bot_enabled: client.bot_enabled,
    retention_hours: client.retention_hours ?? 24,
    openai_model: client.assistant.model,
    faqs: client.faqs,
    has_whatsapp_access_token: client.whatsapp_access_token_enc !== undefined,
    has_openai_api_key: client.openai_api_key_enc !== undefined,
    credentials_status: client.credentials_status,
    credentials_status_reason: client.credentials_status_reason ?? null,
    sending_paused_until: client.sending_paused_until ?? null,
    sending_paused_reason: client.sending_paused_reason ?? null,
  };
}

export type ClientView = ReturnType<typeof toClientView>;
