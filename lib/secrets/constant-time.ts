import { timingSafeEqual } from 'node:crypto';

/** Compares a secret someone presented with ours without leaking, through timing, how much matched. */
export function secretsMatch(given: string | Buffer, expected: string | Buffer): boolean {
  const a = typeof given === 'string' ? Buffer.from(given) : given;
  const b = typeof expected === 'string' ? Buffer.from(expected) : expected;
  return a.length === b.length && timingSafeEqual(a, b);
}
