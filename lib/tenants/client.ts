import { randomBytes } from 'node:crypto';
import type { Faq, WindowTemplate } from './client-schemas.ts';

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

/** How a tenant is connected to WhatsApp: the official Cloud API, or an ordinary account linked by QR. */
export type Channel = 'cloud_api' | 'qr';

/** The state of the tenant's latest invitation e-mail, as the operator sees it. */
export interface InvitationStatus {
  status: 'sent' | 'failed' | 'not_requested';
  to?: string;
  sent_at?: string;
  reason?: string;
}

/** The outcome of the tenant's latest connection test (POST /tenant/test-connection). */
export interface ConnectionTestRecord {
  ok: boolean;
  checked_at: string;
  /** The names of the checks that failed. */
  failed: string[];
}

/**
 * How long a tenant may keep its data when it sets its own retention (PATCH /tenant), unless the
 * operator set the client's `max_retention_hours`: 30 days.
 */
export const DEFAULT_MAX_RETENTION_HOURS = 24 * 30;

/** How long a chat stays with a person after they last wrote, unless the tenant says otherwise. */
export const DEFAULT_HANDOFF_MINUTES = 60;

/** How long the assistant waits for the rest of a burst, unless the tenant says otherwise. */
export const DEFAULT_REPLY_DELAY_SECONDS = 3;

/** Media a tenant may have processed per day (UTC), unless it says otherwise. */
export const DEFAULT_MEDIA_DAILY_LIMIT = 200;

/** The longest audio transcribed, in seconds, unless the tenant says otherwise. */
export const DEFAULT_AUDIO_MAX_SECONDS = 180;

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
  /** Absent on records older than the tenant API: `cloud_api`. */
  channel?: Channel;
  /** QR mode: the shard that hosts the tenant's session (lib/qr/shards.ts). */
  qr_shard?: string;
  /** QR mode: answer group chats too (absent = no). */
  qr_answer_groups?: boolean;
  /** Minutes a chat stays with a person after they last wrote (absent = DEFAULT_HANDOFF_MINUTES). */
  handoff_minutes?: number;
  /** Seconds to collect a burst before answering it (absent = DEFAULT_REPLY_DELAY_SECONDS; 0 = none). */
  reply_delay_seconds?: number;
  /** Media processed per day (absent = DEFAULT_MEDIA_DAILY_LIMIT; 0 = none). */
  media_daily_limit?: number;
  /** The longest audio transcribed (absent = DEFAULT_AUDIO_MAX_SECONDS). */
  audio_max_seconds?: number;
  /** The approved template for replies outside the 24-hour window (absent: nothing is sent then). */
  window_template?: WindowTemplate;
  /**
   * QR mode: the Cloud API phone number id the client had (or was given) before it switched, so that
   * switching back to `cloud_api` restores it. `phone_number_id` is then `qr:<id>`.
   */
  cloud_phone_number_id?: string;
  /** The WhatsApp Business Account id (for the webhook subscription check). */
  waba_id?: string;
  language: string;
  bot_enabled: boolean;
  /** Hours messages and conversations are kept (the purge enforces it); absent on old records = 24. */
  retention_hours?: number;
  /** The most the tenant may set as its own retention; absent = DEFAULT_MAX_RETENTION_HOURS. */
  max_retention_hours?: number;
  invitation?: InvitationStatus;
  last_connection_test?: ConnectionTestRecord;
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
  /** The landing page's lookup: which client a slug names (never listed, read by key only). */
  slugLookup: (slug: string) => ({ pk: `SLUG#${slug}`, sk: 'SLUG' }),
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

/** Where the views link to: the public base URL of the deployment (landing pages live under it). */
export interface ViewContext {
  publicBaseUrl?: string | undefined;
  /** A QR tenant's session as its runner last reported it (its `connection` follows it). */
  qr?: QrLink | null | undefined;
}

/** What a QR session's status says of the link: its state and the linked number. */
export interface QrLink {
  state: string;
  phone_number?: string | null | undefined;
}

/** The tenant's landing page, or null when the deployment's public URL is not known. */
export function landingUrl(client: Pick<Client, 'slug'>, context: ViewContext): string | null {
  if (!context.publicBaseUrl) return null;
  return `${context.publicBaseUrl.replace(/\/+$/, '')}/client/${client.slug}`;
}

/**
 * Whether the tenant can talk to its customers, as one state a person can read:
 * - `connected`: Cloud API credentials in use (its own token, or the platform's) and not flagged;
 * - `credentials_invalid`: Graph refused the token (190) — new credentials clear it;
 * - `sending_paused`: Meta paused sending (spam rate limit) until `until`;
 * - `connected` in QR mode: the runner reports the linked session connected;
 * - `qr_not_linked`: QR mode, the session is not connected (`detail` says where it is).
 */
export function connectionStatus(client: Client, now: Date = new Date(), qr?: QrLink | null) {
  const channel = client.channel ?? 'cloud_api';
  const lastTest = client.last_connection_test ?? null;
  if (channel === 'qr' && qr?.state === 'connected') {
    return {
      state: 'connected' as const,
      detail: `linked by QR${qr.phone_number ? ` as ${qr.phone_number}` : ''}`,
      last_test: lastTest,
    };
  }
  if (channel === 'qr')
    return {
      state: 'qr_not_linked' as const,
      detail: qr ? `the QR session is ${qr.state}` : 'no WhatsApp account is linked yet',
      last_test: lastTest,
    };
  if (client.credentials_status === 'invalid') {
    return {
      state: 'credentials_invalid' as const,
      detail: client.credentials_status_reason ?? 'WhatsApp refused the access token',
      last_test: lastTest,
    };
  }
  if (client.sending_paused_until && client.sending_paused_until > now.toISOString()) {
    return {
      state: 'sending_paused' as const,
      detail: client.sending_paused_reason ?? 'Meta paused sending',
      until: client.sending_paused_until,
      last_test: lastTest,
    };
  }
  return {
    state: 'connected' as const,
    detail:
      client.whatsapp_access_token_enc !== undefined
        ? "the tenant's own Cloud API access token"
        : "the platform's Cloud API access token",
    last_test: lastTest,
  };
}

/** The view of a client (operator's and tenant's alike): no secrets, only whether they are set. */
export function toClientView(client: Client, context: ViewContext = {}) {
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
    channel: client.channel ?? 'cloud_api',
    qr_answer_groups: client.qr_answer_groups === true,
    waba_id: client.waba_id ?? null,
    reply_delay_seconds: client.reply_delay_seconds ?? DEFAULT_REPLY_DELAY_SECONDS,
    handoff_minutes: client.handoff_minutes ?? DEFAULT_HANDOFF_MINUTES,
    window_template: client.window_template ?? null,
    media_daily_limit: client.media_daily_limit ?? DEFAULT_MEDIA_DAILY_LIMIT,
    audio_max_seconds: client.audio_max_seconds ?? DEFAULT_AUDIO_MAX_SECONDS,
    max_retention_hours: client.max_retention_hours ?? DEFAULT_MAX_RETENTION_HOURS,
    slug: client.slug,
    landing_url: landingUrl(client, context),
    connection: connectionStatus(client, new Date(), context.qr),
    invitation: {
      status: client.invitation?.status ?? 'not_requested',
      to: client.invitation?.to ?? null,
      sent_at: client.invitation?.sent_at ?? null,
      reason: client.invitation?.reason ?? null,
    },
  };
}

export type ClientView = ReturnType<typeof toClientView>;
