/**
 * Splits a text into parts of at most `max` characters (a WhatsApp text body holds 4096: see
 * MAX_TEXT_LENGTH beside the sender port).
 *
 * Cuts, in order of preference: at a paragraph break, a line break, a sentence end, a space; a hard
 * cut happens only inside a single word longer than `max`, and then on a grapheme boundary so no
 * emoji (surrogate pair or ZWJ sequence) is cut in half. Lengths are UTF-16 code units, never less
 * than the character count Meta checks. Parts keep their order, are trimmed at the cut, and are
 * never empty.
 */

/** A boundary is only taken when the part before it is at least this share of `max` (no tiny parts). */
const MIN_FILL = 0.3;

const BOUNDARIES: ReadonlyArray<{ pattern: RegExp; cutAfterMatch: boolean }> = [
  { pattern: /\n[ \t]*\n/g, cutAfterMatch: false }, // paragraph break
  { pattern: /\n/g, cutAfterMatch: false }, // line break
  { pattern: /[.!?…。！？]["'”’»)\]]*(?=\s)/g, cutAfterMatch: true }, // sentence end
  { pattern: /\s/g, cutAfterMatch: false }, // any space
];

let segmenter: Intl.Segmenter | undefined;

export function splitText(text: string, max: number): string[] {
  if (!Number.isInteger(max) || max < 2) throw new RangeError('max must be an integer of at least 2');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const cut = findCut(rest, max);
    const part = rest.slice(0, cut).trimEnd();
    if (part) parts.push(part);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** Where to cut `text` (longer than `max`) so that the first part has at most `max` code units. */
function findCut(text: string, max: number): number {
  // One extra unit: a space right after the limit is a perfect place to cut.
  const window = text.slice(0, max + 1);
  const minCut = Math.max(1, Math.floor(max * MIN_FILL));
  let fallback = 0;
  for (const { pattern, cutAfterMatch } of BOUNDARIES) {
    const cut = lastBoundary(window, pattern, cutAfterMatch, max);
    if (cut >= minCut) return cut;
    if (cut > fallback) fallback = cut;
  }
  if (fallback > 0) return fallback;
  return hardCut(text, max);
}

function lastBoundary(window: string, pattern: RegExp, cutAfterMatch: boolean, max: number): number {
  let best = 0;
  for (const match of window.matchAll(pattern)) {
    const cut = cutAfterMatch ? match.index + match[0].length : match.index;
    if (cut <= max && cut > best) best = cut;
  }
  return best;
}

/** The last grapheme boundary at or before `max` (else the last code point boundary). */
function hardCut(text: string, max: number): number {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  // A little look-ahead so the boundary at `max` is judged with the characters that follow it.
  let cut = 0;
  for (const { index } of segmenter.segment(text.slice(0, max + 16))) {
    if (index > max) break;
    cut = index;
  }
  if (cut > 0) return cut;
  // A single grapheme longer than max: fall back to a code point boundary.
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
