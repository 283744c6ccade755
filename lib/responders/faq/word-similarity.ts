/**
 * Word similarity of the offline FAQ matcher: a light Spanish/English stemmer, character trigrams
 * and edit distance, on normalized tokens (lib/text/normalize.ts). Pure and deterministic.
 */

// Longest first. Spanish and English inflections; a stem keeps at least MIN_STEM letters.
const SUFFIXES = [
  'aciones',
  'iciones',
  'amientos',
  'imientos',
  'amiento',
  'imiento',
  'ations',
  'mente',
  'acion',
  'icion',
  'ation',
  'iendo',
  'ando',
  'ados',
  'adas',
  'idos',
  'idas',
  'ings',
  'ando',
  'amos',
  'emos',
  'imos',
  'aron',
  'ieron',
  'aran',
  'eran',
  'ado',
  'ada',
  'ido',
  'ida',
  'ais',
  'eis',
  'ing',
  'ies',
  'ar',
  'er',
  'ir',
  'es',
  'as',
  'os',
  'an',
  'en',
  'ed',
  'ly',
  'a',
  'o',
  'e',
  's',
] as const;
const MIN_STEM = 3;

/** Light stemmer shared by both languages: strips one inflectional suffix ("reservas" → "reserv"). */
export function stem(token: string): string {
  if (token.length <= MIN_STEM || /^\d+$/.test(token)) return token;
  for (const suffix of SUFFIXES) {
    if (token.endsWith(suffix) && token.length - suffix.length >= MIN_STEM) {
      return token.slice(0, token.length - suffix.length);
    }
  }
  return token;
}

/** Character trigrams of a token or phrase, padded so short words still have some. */
export function trigrams(text: string): Set<string> {
  const padded = ` ${text} `;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) grams.add(padded.slice(i, i + 3));
  return grams;
}

/** Dice coefficient of two trigram sets, in [0, 1]. */
export function dice(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const gram of a) if (b.has(gram)) shared++;
  return (2 * shared) / (a.size + b.size);
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Whether two stems are the same word up to a typo (one edit on long words, close trigrams). */
export function similarStems(a: string, b: string): boolean {
  if (a === b) return true;
  const shorter = Math.min(a.length, b.length);
  if (shorter < 4) return false;
  if (shorter >= 5 && Math.abs(a.length - b.length) <= 1 && editDistance(a, b) <= 1) return true;
  return shorter >= 6 && dice(trigrams(a), trigrams(b)) >= 0.75;
}
