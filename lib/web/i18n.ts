/**
 * The pages' words: Spanish by default, English for tenants whose language is English (and, on the
 * console, when the browser asks for English first). Keys are shared by the server-rendered HTML
 * and, through a `data-i18n` JSON blob, by the pages' scripts.
 */
export type PageLanguage = 'es' | 'en';

export const pageLanguage = (language: string | undefined): PageLanguage => (language === 'en' ? 'en' : 'es');

/** `Accept-Language: en-GB,en;q=0.9,…` → `en` when English comes before Spanish. */
export function preferredLanguage(acceptLanguage: string | undefined): PageLanguage {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().slice(0, 2).toLowerCase();
    if (tag === 'en' || tag === 'es') return tag;
  }
  return 'es';
}
