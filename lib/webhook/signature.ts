import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { secretsMatch } from '../secrets/constant-time.ts';

/**
 * Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed
 * with the App Secret. The HMAC covers the exact bytes Meta sent (non-ASCII escaped as `\uXXXX`),
 * so verify before parsing and never on a re-serialized body.
 */

const PREFIX = 'sha256=';
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

/** The `X-Hub-Signature-256` header value for `rawBody` (`sha256=<hex>`). */
export function signWebhookBody(rawBody: Buffer | string, appSecret: string): string {
  return PREFIX + createHmac('sha256', appSecret).update(rawBody).digest('hex');
}

/**
 * Whether `header` is the valid signature of `rawBody`. Constant time in the digest comparison;
 * false for a missing, malformed or wrong header, and for an empty secret.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  if (!header || !appSecret) return false;
  const value = header.trim();
  if (value.slice(0, PREFIX.length).toLowerCase() !== PREFIX) return false;
  const hex = value.slice(PREFIX.length);
  if (!HEX_DIGEST.test(hex)) return false;
  const received = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', secretKey(appSecret)).update(rawBody).digest();
  return secretsMatch(received, expected);
}

/**
 * The App Secret as a KeyObject, built once per secret (a rotation builds the next): an HMAC keyed
 * with a KeyObject skips re-importing a string key on every request. The same UTF-8 bytes as
 * `createHmac('sha256', appSecret)`, so the same digest.
 */
let cachedKey: { secret: string; key: KeyObject } | undefined;
function secretKey(appSecret: string): KeyObject {
  if (cachedKey?.secret !== appSecret)
    cachedKey = { secret: appSecret, key: createSecretKey(appSecret, 'utf8') };
  return cachedKey.key;
}
