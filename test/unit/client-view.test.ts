import { describe, expect, it } from 'vitest';
import {
  type Client,
  connectionStatus,
  DEFAULT_MAX_RETENTION_HOURS,
  toClientView,
} from '../../lib/tenants/client.ts';

/** The client view (operator's and tenant's): no secret in any form, and a readable connection state. */

const WHATSAPP_CIPHERTEXT = 'v1:ciphertext-of-the-whatsapp-token-SENTINEL';
const OPENAI_CIPHERTEXT = 'v1:ciphertext-of-the-openai-key-SENTINEL';
const NOW = new Date('2026-11-24T10:00:00.000Z');

function client(overrides: Partial<Client> = {}): Client {
  return {
    id: 'cl_0123456789abcdef',
    slug: 'abcdefghijklmnopqrstuvwxyz',
    name: 'Restaurante La Plaza',
    phone_number: '+34666777888',
    phone_number_id: '123456789',
    faqs: [{ q: '¿Horario?', a: 'De 9 a 22.' }],
    language: 'es',
    bot_enabled: true,
    active: true,
    created_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-02T00:00:00.000Z',
    credentials_status: 'ok',
    assistant: {
      id: 'asst_0123456789abcdefghij',
      version: 3,
      model: 'gpt-5-mini',
      instructions: 'Eres el asistente de La Plaza.',
      status: 'ready',
      updated_at: '2026-11-02T00:00:00.000Z',
    },
    ...overrides,
  };
}

const withSecrets = () =>
  client({ whatsapp_access_token_enc: WHATSAPP_CIPHERTEXT, openai_api_key_enc: OPENAI_CIPHERTEXT });

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  }
  return [];
}

describe('given a client with both secrets set', () => {
  it('when viewed, then no *_enc field and no ciphertext appear anywhere, only has_… flags', () => {
    const view = toClientView(withSecrets(), { publicBaseUrl: 'https://wa.example.test' });
    const text = JSON.stringify(view);
    expect(keysOf(view).filter((key) => key.endsWith('_enc'))).toEqual([]);
    expect(text).not.toContain('SENTINEL');
    expect(text).not.toContain('ciphertext');
    expect(view.has_whatsapp_access_token).toBe(true);
    expect(view.has_openai_api_key).toBe(true);
    // The assistant's instructions are ours, not the tenant's to read.
    expect(text).not.toContain('Eres el asistente');
  });

  it('when viewed, then the other fields carry their values and the defaults of older records', () => {
    const view = toClientView(withSecrets());
    expect(view).toMatchObject({
      id: 'cl_0123456789abcdef',
      assistant_id: 'asst_0123456789abcdefghij',
      assistant_version: 3,
      assistant_status: 'ready',
      assistant_status_reason: null,
      openai_model: 'gpt-5-mini',
      retention_hours: 24,
      max_retention_hours: DEFAULT_MAX_RETENTION_HOURS,
      channel: 'cloud_api',
      waba_id: null,
      email: null,
      welcome_message: null,
      slug: 'abcdefghijklmnopqrstuvwxyz',
      invitation: { status: 'not_requested', to: null, sent_at: null, reason: null },
    });
  });
});

describe('given a client without secrets', () => {
  it('when viewed, then both has_… flags are false', () => {
    const view = toClientView(client());
    expect(view.has_whatsapp_access_token).toBe(false);
    expect(view.has_openai_api_key).toBe(false);
  });

  it('when only the OpenAI key is set, then only its flag is true', () => {
    const view = toClientView(client({ openai_api_key_enc: OPENAI_CIPHERTEXT }));
    expect(view.has_whatsapp_access_token).toBe(false);
    expect(view.has_openai_api_key).toBe(true);
    expect(JSON.stringify(view)).not.toContain('SENTINEL');
  });
});

describe('the landing URL', () => {
  it('given no public base URL, then it is null', () => {
    expect(toClientView(client()).landing_url).toBeNull();
    expect(toClientView(client(), { publicBaseUrl: '' }).landing_url).toBeNull();
    expect(toClientView(client(), { publicBaseUrl: undefined }).landing_url).toBeNull();
  });

  it('given a public base URL, with or without trailing slashes, then it is <base>/client/<slug>', () => {
    for (const base of ['https://wa.example.test', 'https://wa.example.test/', 'https://wa.example.test//']) {
      expect(toClientView(client(), { publicBaseUrl: base }).landing_url).toBe(
        'https://wa.example.test/client/abcdefghijklmnopqrstuvwxyz',
      );
    }
  });
});

describe('the connection state', () => {
  it('given credentials Graph refused, then credentials_invalid with the reason', () => {
    const status = connectionStatus(
      client({ credentials_status: 'invalid', credentials_status_reason: 'Graph error 190: token expired' }),
      NOW,
    );
    expect(status).toEqual({
      state: 'credentials_invalid',
      detail: 'Graph error 190: token expired',
      last_test: null,
    });
    expect(connectionStatus(client({ credentials_status: 'invalid' }), NOW).detail).toBe(
      'WhatsApp refused the access token',
    );
  });

  it('given credentials invalid while sending is also paused, then credentials_invalid (new credentials are needed first)', () => {
    const status = connectionStatus(
      client({ credentials_status: 'invalid', sending_paused_until: '2026-11-24T12:00:00.000Z' }),
      NOW,
    );
    expect(status.state).toBe('credentials_invalid');
  });

  it('given sending paused until later, then sending_paused with until and the reason', () => {
    const status = connectionStatus(
      client({
        sending_paused_until: '2026-11-24T12:00:00.000Z',
        sending_paused_reason: 'Graph error 131048: spam rate limit',
      }),
      NOW,
    );
    expect(status).toEqual({
      state: 'sending_paused',
      detail: 'Graph error 131048: spam rate limit',
      until: '2026-11-24T12:00:00.000Z',
      last_test: null,
    });
  });

  it('given a pause that has ended, then connected again', () => {
    const status = connectionStatus(client({ sending_paused_until: '2026-11-24T09:59:59.000Z' }), NOW);
    expect(status.state).toBe('connected');
  });

  it('given valid credentials, then connected, saying whose token is used, with the latest test', () => {
    const lastTest = { ok: true, checked_at: '2026-11-24T09:00:00.000Z', failed: [] };
    expect(connectionStatus(withSecrets(), NOW)).toEqual({
      state: 'connected',
      detail: "the tenant's own Cloud API access token",
      last_test: null,
    });
    expect(connectionStatus(client({ last_connection_test: lastTest }), NOW)).toEqual({
      state: 'connected',
      detail: "the platform's Cloud API access token",
      last_test: lastTest,
    });
  });

  it('given QR mode, then qr_not_linked', () => {
    expect(connectionStatus(client({ channel: 'qr' }), NOW).state).toBe('qr_not_linked');
  });

  it('given the view of a paused client, then its connection says so and never carries a secret', () => {
    const view = toClientView(
      client({
        whatsapp_access_token_enc: WHATSAPP_CIPHERTEXT,
        sending_paused_until: '2999-01-01T00:00:00.000Z',
        sending_paused_reason: 'Meta paused sending',
      }),
    );
    expect(view.connection).toMatchObject({ state: 'sending_paused', until: '2999-01-01T00:00:00.000Z' });
    expect(view.sending_paused_until).toBe('2999-01-01T00:00:00.000Z');
    expect(JSON.stringify(view.connection)).not.toContain('SENTINEL');
  });
});
