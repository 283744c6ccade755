import { tokenize } from '../../text/normalize.ts';
import { findConcepts } from './concepts.ts';
import { LANGUAGE_MARKERS, type Lang } from './lexicon.ts';

const SPANISH_CHARACTERS = /[ñáéíóúü¿¡]/giu;

/**
 * The language of a customer's message, from function words, Spanish-only characters and the
 * language of the lexicon words it uses. Short or ambiguous text (no clear lead) → `fallback`.
 */
export function detectLanguage(text: string, fallback: Lang = 'es'): Lang {
  const tokens = tokenize(text);
  let es = Math.min(2, (text.match(SPANISH_CHARACTERS) ?? []).length) * 1.5;
  let en = 0;
  for (const token of tokens) {
    if (LANGUAGE_MARKERS.es.has(token)) es += 1;
    if (LANGUAGE_MARKERS.en.has(token)) en += 1;
  }
  const voted = new Set<number>();
  for (const hit of findConcepts(tokens, () => true)) {
    const first = hit.tokens[0];
    if (hit.lang === undefined || first === undefined || voted.has(first)) continue;
    voted.add(first);
    if (hit.lang === 'es') es += 1;
    else en += 1;
  }
  if (Math.max(es, en) < 1 || Math.abs(es - en) < 1) return fallback;
  return es > en ? 'es' : 'en';
}
