import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { secretsMatch } from '../../lib/secrets/constant-time.ts';
import {
  generateApiKey,
  generateInvitationToken,
  hashToken,
  isTokenId,
  parseApiKey,
  parseInvitationToken,
  randomBase62,
  TOKEN_ID_LENGTH,
  TOKEN_SECRET_BITS,
  TOKEN_SECRET_LENGTH,
  tokenMatchesHash,
} from '../../lib/tenants/tenant-tokens.ts';

vi.mock('../../lib/secrets/constant-time.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../lib/secrets/constant-time.ts')>();
  return { ...actual, secretsMatch: vi.fn(actual.secretsMatch) };
});

// Tokens in this file are built at run time, so it holds no literal the secret scanner would flag.
const token = (...parts: string[]) => parts.join('_');
const id = 'k7Qm2xPz9A';
const secret = 'Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE';

/** The repository's secret-scanner patterns (the pre-commit hook's and CI's). */
const scannerPatterns = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '.secretlintrc.json'), 'utf8')) as {
    rules: Array<{ options?: { patterns?: Array<{ name: string; pattern: string }> } }>;
  }
).rules
  .flatMap((rule) => rule.options?.patterns ?? [])
  .map(({ name, pattern }) => ({ name, regex: new RegExp(pattern.slice(1, pattern.lastIndexOf('/'))) }));

describe('given a new API key', () => {
  it('then it reads wta_<environment>_<10-character id>_<32-character base62 secret>', () => {
    const live = generateApiKey();
    expect(live.api_key).toMatch(/^wta_live_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
    expect(live.prefix).toBe(`wta_live_${live.key_id}`);
    expect(live.api_key.startsWith(`${live.prefix}_`)).toBe(true);
    expect(generateApiKey('test').api_key).toMatch(/^wta_test_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
  });

  it('then its secret carries at least 128 random bits', () => {
    expect(TOKEN_SECRET_LENGTH).toBeGreaterThanOrEqual(22);
    expect(TOKEN_SECRET_BITS).toBeGreaterThanOrEqual(128);
    expect(TOKEN_SECRET_BITS).toBe(190);
  });

  it('then the secret scanner recognises it, and an invitation token too', () => {
    const apiKeyRule = scannerPatterns.find((p) => p.name.includes('API key'));
    const invitationRule = scannerPatterns.find((p) => p.name.includes('invitation'));
    expect(apiKeyRule && invitationRule).toBeTruthy();
    for (let i = 0; i < 50; i++) {
      expect(generateApiKey(i % 2 ? 'live' : 'test').api_key).toMatch(apiKeyRule!.regex);
      expect(generateInvitationToken().token).toMatch(invitationRule!.regex);
    }
  });

  it('then it parses back to its id and prefix', () => {
    const key = generateApiKey();
    expect(parseApiKey(key.api_key)).toEqual({
      key_id: key.key_id,
      prefix: key.prefix,
      environment: 'live',
      token: key.api_key,
    });
  });

  it('when many are made, then no id or secret repeats', () => {
    const keys = Array.from({ length: 2000 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key_id)).size).toBe(keys.length);
    expect(new Set(keys.map((k) => k.api_key.slice(-TOKEN_SECRET_LENGTH))).size).toBe(keys.length);
  });
});

describe('given the random base62 source', () => {
  it('then every character is equally likely (no modulo bias)', () => {
    const perCharacter = 1000;
    const text = randomBase62(62 * perCharacter);
    expect(text).toMatch(/^[0-9A-Za-z]+$/);
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Chi-square with 61 degrees of freedom: mean 61, sd 11; `byte % 62` over all 256 bytes would
    // over-draw the first 8 characters by ~25% and score in the hundreds.
    let chiSquare = 0;
    for (const count of counts.values()) chiSquare += (count - perCharacter) ** 2 / perCharacter;
    expect(chiSquare).toBeLessThan(130);
  });

  it('then it gives exactly the length asked', () => {
    for (const length of [0, 1, 10, 32, 100]) expect(randomBase62(length)).toHaveLength(length);
  });
});

describe('given a presented API key that is not one we could have issued', () => {
  const malformed: Array<[string, unknown]> = [
    ['nothing', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { key: token('wta', 'live', id, secret) }],
    ['an empty string', ''],
    ['only the prefix', token('wta', 'live', id)],
    ['another product', token('wtx', 'live', id, secret)],
    ['another environment', token('wta', 'prod', id, secret)],
    ['upper-case prefix', token('WTA', 'LIVE', id, secret)],
    ['an invitation token', token('wti', id, secret)],
    ['a short id', token('wta', 'live', id.slice(1), `${secret}x`)],
    ['a long id', token('wta', 'live', `${id}x`, secret.slice(1))],
    ['a short secret', token('wta', 'live', id, secret.slice(1))],
    ['a long secret', token('wta', 'live', id, `${secret}x`)],
    ['base64url characters in the secret', token('wta', 'live', id, `${secret.slice(2)}-_`)],
    ['a separator in the id', token('wta', 'live', 'k7Qm2_xPz9', secret)],
    ['a space', token('wta', 'live', id, `${secret.slice(1)} `)],
    ['a trailing newline', `${token('wta', 'live', id, secret.slice(1))}\n`],
    ['a leading space', ` ${token('wta', 'live', id, secret.slice(1))}`],
    ['a look-alike letter', token('wta', 'live', id, `${secret.slice(1)}\u0430`)],
    ['a NUL byte', token('wta', 'live', id, `${secret.slice(1)}\u0000`)],
    ['a huge string', token('wta', 'live', id, secret.repeat(100_000))],
    ['a Bearer header', `Bearer ${token('wta', 'live', id, secret)}`],
  ];

  it.each(malformed)('when it is %s, then it does not parse', (_name, value) => {
    expect(parseApiKey(value)).toBeUndefined();
  });

  it('then the well-formed neighbour of those does parse (the cases above differ only as named)', () => {
    expect(parseApiKey(token('wta', 'live', id, secret))?.key_id).toBe(id);
    expect(parseApiKey(token('wta', 'test', id, secret))?.environment).toBe('test');
  });
});

describe('given a presented invitation token', () => {
  it('then a generated one parses back to its id', () => {
    const invitation = generateInvitationToken();
    expect(invitation.token).toMatch(/^wti_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
    expect(parseInvitationToken(invitation.token)).toEqual({
      invitation_id: invitation.invitation_id,
      token: invitation.token,
    });
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['an API key', token('wta', 'live', id, secret)],
    ['a short secret', token('wti', id, secret.slice(1))],
    ['a long secret', token('wti', id, `${secret}x`)],
    ['a short id', token('wti', id.slice(1), `${secret}x`)],
    ['a dash in the secret', token('wti', id, `${secret.slice(1)}-`)],
    ['a huge string', token('wti', id, secret.repeat(100_000))],
  ])('when it is %s, then it does not parse', (_name, value) => {
    expect(parseInvitationToken(value)).toBeUndefined();
  });
});

describe('given token ids taken from a request', () => {
  it('then only ten base62 characters are an id', () => {
    expect(isTokenId(id)).toBe(true);
    for (const value of [undefined, '', id.slice(1), `${id}x`, 'k7Qm2xPz9-', '../../etc', 1234567890]) {
      expect(isTokenId(value)).toBe(false);
    }
    expect(TOKEN_ID_LENGTH).toBe(10);
  });
});

describe('given the stored form of a token', () => {
  // A block body: a function returned from beforeEach would be run as its teardown.
  beforeEach(() => {
    vi.mocked(secretsMatch).mockClear();
  });

  it('then it is the SHA-256 of the whole token, holding nothing of the secret', () => {
    const key = generateApiKey();
    const stored = hashToken(key.api_key);
    expect(stored).toBe(createHash('sha256').update(key.api_key).digest('base64url'));
    expect(stored).toHaveLength(43);
    expect(stored).not.toContain(key.api_key.slice(-TOKEN_SECRET_LENGTH));
    expect(hashToken(generateApiKey().api_key)).not.toBe(stored);
  });

  it('when the right token is presented, then it matches, through the constant-time comparison', () => {
    const key = generateApiKey();
    expect(tokenMatchesHash(key.api_key, hashToken(key.api_key))).toBe(true);
    expect(secretsMatch).toHaveBeenCalledTimes(1);
    const [given, expected] = vi.mocked(secretsMatch).mock.calls[0]!;
    expect(Buffer.isBuffer(given) && Buffer.isBuffer(expected)).toBe(true);
    expect((given as Buffer).length).toBe(32);
    expect((expected as Buffer).length).toBe(32);
  });

  it('when a wrong token is presented, then it does not match', () => {
    const key = generateApiKey();
    const sameId = `${key.prefix}_${randomBase62(TOKEN_SECRET_LENGTH)}`;
    expect(tokenMatchesHash(sameId, hashToken(key.api_key))).toBe(false);
    expect(tokenMatchesHash(key.api_key.replace('wta_live_', 'wta_test_'), hashToken(key.api_key))).toBe(
      false,
    );
  });

  it('when there is no stored hash (unknown id), then it does the same comparison and does not match', () => {
    const key = generateApiKey();
    expect(tokenMatchesHash(key.api_key, undefined)).toBe(false);
    expect(secretsMatch).toHaveBeenCalledTimes(1);
    const [given, expected] = vi.mocked(secretsMatch).mock.calls[0]!;
    expect((given as Buffer).length).toBe(32);
    expect((expected as Buffer).length).toBe(32);
  });
});
