import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../lib/webhook/signature.ts';

const SECRET = 'test-app-secret';
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/meta-webhooks.json', import.meta.url), 'utf8'))
  .examples as Record<string, unknown>;

/** How Meta puts a body on the wire: compact JSON, every non-ASCII character as \uXXXX. */
function metaBytes(body: unknown): Buffer {
  const escaped = JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return Buffer.from(escaped, 'utf8');
}

describe('signWebhookBody', () => {
  it('produces sha256=<hex HMAC-SHA256> of the body keyed with the App Secret', () => {
    // The well-known HMAC-SHA256 test vector.
    expect(signWebhookBody('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('signs a Buffer and the same string identically', () => {
    const body = '{"object":"whatsapp_business_account"}';
    expect(signWebhookBody(Buffer.from(body), SECRET)).toBe(signWebhookBody(body, SECRET));
  });
});

describe('verifyWebhookSignature', () => {
  const body = metaBytes(fixtures.text);
  const valid = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

  it('accepts the signature of the exact bytes', () => {
    expect(verifyWebhookSignature(body, valid, SECRET)).toBe(true);
    expect(verifyWebhookSignature(body, signWebhookBody(body, SECRET), SECRET)).toBe(true);
  });

  it('accepts upper-case hex and surrounding whitespace', () => {
    expect(verifyWebhookSignature(body, `  sha256=${valid.slice(7).toUpperCase()} `, SECRET)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['prefix only', 'sha256='],
    ['without prefix', valid.slice(7)],
    ['another algorithm', `sha1=${valid.slice(7)}`],
    ['too short', valid.slice(0, -2)],
    ['too long', `${valid}00`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['odd garbage', 'sha256=abc def'],
  ])('rejects a %s header', (_name, header) => {
    expect(verifyWebhookSignature(body, header, SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyWebhookSignature(body, signWebhookBody(body, 'another-secret'), SECRET)).toBe(false);
  });

  it('rejects when the secret is empty', () => {
    expect(verifyWebhookSignature(body, signWebhookBody(body, ''), '')).toBe(false);
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(body.toString('utf8').replace('631261586727899', '631261586727898'));
    expect(verifyWebhookSignature(tampered, valid, SECRET)).toBe(false);
  });

  it('covers the bytes as sent: a \\uXXXX-escaped body and its raw UTF-8 twin differ', () => {
    // Given the same JSON value on the wire in two spellings
    const escaped = metaBytes(fixtures.text);
    const rawUtf8 = Buffer.from(JSON.stringify(fixtures.text), 'utf8');
    expect(escaped.toString('utf8')).toContain('\\u00bfA qu\\u00e9 hora abr\\u00eds el s\\u00e1bado?');
    expect(JSON.parse(escaped.toString('utf8'))).toEqual(JSON.parse(rawUtf8.toString('utf8')));
    // When Meta signed the escaped bytes
    const header = signWebhookBody(escaped, SECRET);
    // Then only those bytes verify: re-serializing the parsed body would break the check
    expect(verifyWebhookSignature(escaped, header, SECRET)).toBe(true);
    expect(verifyWebhookSignature(rawUtf8, header, SECRET)).toBe(false);
  });

  it('verifies astral characters escaped as surrogate pairs', () => {
    const escaped = metaBytes({ text: { body: 'Hola 👋' } });
    expect(escaped.toString('utf8')).toContain('\\ud83d\\udc4b');
    expect(verifyWebhookSignature(escaped, signWebhookBody(escaped, SECRET), SECRET)).toBe(true);
  });
});
