/**
 * Text normalization shared by the offline FAQ matcher and the bot commands: both compare what a
 * customer typed with known words, ignoring case, accents, punctuation and stretched letters.
 */

/** Lowercase, strip accents (ñ → n), punctuation (¿¡ included) and extra spaces; "3+" letter runs → one. */
export function normalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .replace(/([a-z])\1{2,}/g, '$1')
    .trim();
}

/** The normalized words of a text. */
export function tokenize(text: string): string[] {
  const normalized = normalize(text);
  return normalized === '' ? [] : normalized.split(' ');
}
