import { createHash, randomBytes } from 'node:crypto';
import { secretsMatch } from '../secrets/constant-time.ts';

/**
 * The bearer secrets a tenant holds: API keys (`wta_live_<id>_<secret>`, `wta_test_…`) and
 * invitation tokens (`wti_<id>_<secret>`). The recognisable prefix lets secret scanners find a
 * leaked one (`.secretlintrc.json` matches both), the id names the stored record (one GetItem), and
 * the secret carries 190 random bits. Only the SHA-256 of the whole token is stored: a secret this
 * random needs no slow hash, and hashing the whole token binds the prefix and the id to it.
 *
 * A presented token is parsed strictly (exact length, fixed alphabet) before anything is looked up,
 * so whatever a caller sends reaches the table only as a well-formed id.
 */

/** Which deployment a key belongs to: `test` keys are for the local stack and test tenants. */
export type KeyEnvironment = 'live' | 'test';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Bytes at or above this would bias `byte % 62`: they are drawn again (248 = 4 × 62). */
const UNBIASED_BELOW = 248;

/** Characters of a token id: 62^10 ≈ 2^59.5, unique enough to retry on the rare collision. */
export const TOKEN_ID_LENGTH = 10;
/** Characters of a token secret: 62^32 ≈ 2^190.5, well above the 128 bits required. */
export const TOKEN_SECRET_LENGTH = 32;
/** Bits of randomness in a token secret. */
export const TOKEN_SECRET_BITS = Math.floor(TOKEN_SECRET_LENGTH * Math.log2(62));

const API_KEY_PATTERN = new RegExp(
  `^(wta_(live|test)_([0-9A-Za-z]{${TOKEN_ID_LENGTH}}))_[0-9A-Za-z]{${TOKEN_SECRET_LENGTH}}$`,
);
const INVITATION_PATTERN = new RegExp(
  `^wti_([0-9A-Za-z]{${TOKEN_ID_LENGTH}})_[0-9A-Za-z]{${TOKEN_SECRET_LENGTH}}$`,
);
const ID_PATTERN = new RegExp(`^[0-9A-Za-z]{${TOKEN_ID_LENGTH}}$`);

/** The exact length of each kind: any other length is refused before the pattern runs. */
const API_KEY_LENGTH = 'wta_live_'.length + TOKEN_ID_LENGTH + 1 + TOKEN_SECRET_LENGTH;
const INVITATION_LENGTH = 'wti_'.length + TOKEN_ID_LENGTH + 1 + TOKEN_SECRET_LENGTH;

/** `length` characters of base62, each drawn uniformly (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.ceil((length - out.length) * 1.1) + 4)) {
      if (byte < UNBIASED_BELOW && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** The SHA-256 of a whole token, as stored (base64url, 43 characters). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * Stands in for the stored hash when there is no record, so an unknown id costs the same hash and
 * comparison as a wrong secret. Random per process: no token hashes to it.
 */
const ABSENT_HASH = randomBytes(32).toString('base64url');

/**
 * Whether `token` hashes to `storedHash`, compared in constant time. Always does the same work:
 * without a stored hash (unknown id) it compares against a stand-in and answers false.
 */
export function tokenMatchesHash(token: string, storedHash: string | undefined): boolean {
  const given = Buffer.from(hashToken(token), 'base64url');
  const expected = Buffer.from(typeof storedHash === 'string' ? storedHash : ABSENT_HASH, 'base64url');
  const matched = secretsMatch(given, expected);
  return matched && typeof storedHash === 'string';
}

/** Whether `value` has the shape of a token id (what routes take as `:keyId`). */
export function isTokenId(value: unknown): value is string {
  return typeof value === 'string' && value.length === TOKEN_ID_LENGTH && ID_PATTERN.test(value);
}

/** A new API key. `api_key` is shown once; `prefix` (`wta_live_<id>`) names it afterwards. */
export interface GeneratedApiKey {
  key_id: string;
  prefix: string;
  api_key: string;
  environment: KeyEnvironment;
}

export function generateApiKey(environment: KeyEnvironment = 'live'): GeneratedApiKey {
  const keyId = randomBase62(TOKEN_ID_LENGTH);
  const prefix = `wta_${environment}_${keyId}`;
  return { key_id: keyId, prefix, api_key: `${prefix}_${randomBase62(TOKEN_SECRET_LENGTH)}`, environment };
}

/** A presented API key that has the right shape (not yet known to be valid). */
export interface ParsedApiKey {
  key_id: string;
  prefix: string;
  environment: KeyEnvironment;
  /** The whole key, to hash. */
  token: string;
}

/** The parts of a presented API key, or undefined when it is not one (wrong length, charset, shape). */
export function parseApiKey(presented: unknown): ParsedApiKey | undefined {
  if (typeof presented !== 'string' || presented.length !== API_KEY_LENGTH) return undefined;
  const match = API_KEY_PATTERN.exec(presented);
  if (!match) return undefined;
  const [, prefix, environment, keyId] = match;
  return {
    key_id: keyId!,
    prefix: prefix!,
    environment: environment as KeyEnvironment,
    token: presented,
  };
}

/** A new invitation token, given once to the invited person. */
export interface GeneratedInvitation {
  invitation_id: string;
  token: string;
}

export function generateInvitationToken(): GeneratedInvitation {
  const invitationId = randomBase62(TOKEN_ID_LENGTH);
  return {
    invitation_id: invitationId,
    token: `wti_${invitationId}_${randomBase62(TOKEN_SECRET_LENGTH)}`,
  };
}

/** The parts of a presented invitation token, or undefined when it is not one. */
export function parseInvitationToken(
  presented: unknown,
): { invitation_id: string; token: string } | undefined {
  if (typeof presented !== 'string' || presented.length !== INVITATION_LENGTH) return undefined;
  const match = INVITATION_PATTERN.exec(presented);
  if (!match) return undefined;
  return { invitation_id: match[1]!, token: presented };
}
