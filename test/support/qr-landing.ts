import type { Client } from '../../lib/tenants/client.ts';

/** A QR-mode tenant as the web pages read it (only what they use). */
export function qrClient(overrides: Partial<Client> = {}): Client {
  return {
    id: '01J0QRTENANT0000000000000A',
    slug: 'qrslug0000000000000000000a',
    name: 'Panadería del Puerto',
    phone_number: '+34666777301',
    phone_number_id: '',
    faqs: [],
    channel: 'qr',
    language: 'es',
    bot_enabled: true,
    active: true,
    created_at: '2026-12-01T10:00:00.000Z',
    updated_at: '2026-12-01T10:00:00.000Z',
    assistant: { status: 'ready' } as Client['assistant'],
    credentials_status: 'ok',
    ...overrides,
  };
}

/** A QR's text shaped like WhatsApp's (ref, public key, identity key, adv secret): test data only. */
export const SAMPLE_QR =
  '2@QrRefTESTONLYabcdefghij0123456789,PubKeyTESTONLYklmnop=,IdKeyTESTONLYqrstuv=,AdvTESTONLYwxyz=';
