import type { SimulatedWhatsApp } from '../../../lib/qr/simulated-engine.ts';
import { isSameOrigin } from './chat-api.ts';
import { BodyError, isRecord, readJson, requestUrl, sendJson } from './http.ts';
import type { SimulatorPart } from './types.ts';

/**
 * The phone of QR mode, played by hand or by scripts: the simulated WhatsApp's linked accounts and
 * their customers. It signs nothing for Meta, so it needs no token; like the rest of the local stack
 * it is served to loopback callers only, and it refuses cross-origin browsers and non-JSON posts.
 *
 * - `POST /simulator/phone/scan {"qr","phone_number"}`: links the session showing this QR (an old
 *   or unknown QR is refused: 409 / 404).
 * - `POST /simulator/phone/receive {"phone_number","from","text"}`: a customer writes to that number.
 * - `POST /simulator/phone/type {"phone_number","to","text"}`: the owner types on the phone itself.
 * - `GET /simulator/phone/sent?phone_number=…` → `[{"to","text","at"}]`: what the account sent.
 * - `POST /simulator/phone/logout {"phone_number"}`: unlinks the account from the phone.
 */
export const PHONE_PREFIX = '/simulator/phone';

const NUMBER = /^\d{6,15}$/;
const MAX_TEXT = 4096;

type Fields = Record<string, string>;

export function createPhoneApi(options: { whatsapp: SimulatedWhatsApp }): SimulatorPart {
  const { whatsapp } = options;
  const actions: Record<string, { fields: string[]; run(body: Fields): [number, unknown] }> = {
    scan: {
      fields: ['qr', 'phone_number'],
      run: ({ qr, phone_number: phone }) => {
        const outcome = whatsapp.scan(qr!, phone!);
        const status = { linked: 200, unknown_qr: 404, expired_qr: 409, number_in_use: 409 }[outcome];
        const messages = {
          linked: 'linked',
          unknown_qr: 'no session shows this QR (it may have been refreshed)',
          expired_qr: 'this QR has expired: scan the one shown now',
          number_in_use: 'this phone is linked to another tenant: log it out first',
        };
        return [status, { outcome, message: messages[outcome] }];
      },
    },
    receive: {
      fields: ['phone_number', 'from', 'text'],
      run: ({ phone_number: phone, from, text }) => {
        const message = whatsapp.receive(phone!, from!, text!);
        return [202, { id: message.id }];
      },
    },
    type: {
      fields: ['phone_number', 'to', 'text'],
      run: ({ phone_number: phone, to, text }) => {
        const message = whatsapp.typeOnPhone(phone!, to!, text!);
        return [202, { id: message.id }];
      },
    },
    logout: {
      fields: ['phone_number'],
      run: ({ phone_number: phone }) => {
        whatsapp.logoutFromPhone(phone!);
        return [200, { outcome: 'logged_out' }];
      },
    },
  };

  return async (req, res) => {
    const url = requestUrl(req);
    if (!url.pathname.startsWith(`${PHONE_PREFIX}/`)) return false;
    const name = url.pathname.slice(PHONE_PREFIX.length + 1);
    if (!isSameOrigin(req.headers.origin, req.headers.host)) {
      sendJson(res, 403, { error: 'forbidden', message: 'same-origin requests only' });
      return true;
    }
    if (name === 'sent' && req.method === 'GET') {
      const phone = url.searchParams.get('phone_number') ?? '';
      if (!NUMBER.test(phone)) return refuse(res, 'phone_number: digits only, 6 to 15 of them');
      const sent = whatsapp.sent(phone).map(({ to, text, at }) => ({ to, text, at: at.toISOString() }));
      sendJson(res, 200, sent);
      return true;
    }
    const action = actions[name];
    if (!action) {
      sendJson(res, 404, { error: 'not_found', message: 'not found' });
      return true;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'method_not_allowed', message: 'use POST' }, { allow: 'POST' });
      return true;
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return refuse(res, 'send application/json', 415);
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (error) {
      if (error instanceof BodyError) return refuse(res, error.message);
      throw error;
    }
    const fields = validFields(body, action.fields);
    if (typeof fields === 'string') return refuse(res, fields);
    try {
      const [status, answer] = action.run(fields);
      sendJson(res, status, answer);
    } catch (error) {
      // The simulated network refuses what a phone could not do (no linked session, say).
      sendJson(res, 409, { error: 'conflict', message: (error as Error).message });
    }
    return true;
  };
}

function validFields(body: unknown, names: string[]): Fields | string {
  if (!isRecord(body)) return 'the body must be a JSON object';
  const fields: Fields = {};
  for (const name of names) {
    const value = body[name];
    if (typeof value !== 'string' || value.trim() === '') return `${name}: a non-empty string is required`;
    if (['phone_number', 'from', 'to'].includes(name) && !NUMBER.test(value)) {
      return `${name}: digits only, 6 to 15 of them (no +)`;
    }
    if (value.length > MAX_TEXT) return `${name}: at most ${MAX_TEXT} characters`;
    fields[name] = value;
  }
  return fields;
}

function refuse(res: Parameters<SimulatorPart>[1], message: string, status = 400): true {
  sendJson(res, status, { error: 'bad_request', message });
  return true;
}
