import { GREETING_KEYS, GREETING_WORDS } from './lexicon.ts';
import { normalize, tokenize } from './normalize.ts';

/**
 * Requests that try to change the assistant's rules or pull out its configuration. They are declined
 * whatever else they ask, so a FAQ question cannot smuggle an injection through.
 */
const INJECTION_PATTERNS: readonly RegExp[] = [
  /\b(ignore|ignora|ignorar|ignoren|ignores|olvida|olvidate|olvidar|olviden|forget|disregard|override|omite|omit|bypass)\b.{0,50}\b(instrucc\w*|instruction\w*|prompt\w*|rules?|reglas?|normas?|previous|prior|anterior\w*|above|everything|todo|directrices|guidelines|restric\w*|limit\w*|context\w*)\b/,
  /\b(system|sistema|initial|inicial|original|hidden|oculto|secret\w*)\s+(prompt|instrucc\w*|instruction\w*|configuration|configuracion|rules|reglas)\b/,
  /\b(your|tu|tus)\s+(prompt|instrucc\w*|instruction\w*|configuration|configuracion)\b/,
  /\bprompt\s+(del|de)\s+sistema\b/,
  /\b(reveal|revela|show|muestra|ensena|print|imprime|dime|tell me|repeat|repite|output|dump|leak)\b.{0,40}\b(prompt\w*|instrucc\w*|instruction\w*|configuration|configuracion)\b/,
  /\b(new|nuevas?|updated|actualizadas?)\s+(instrucc\w*|instruction\w*|rules|reglas|prompt)\b/,
  /\b(pretend|pretende|finge|fingir|fingas|imagina que eres|imagine you are|roleplay|role play|act as|act like|actua como|actuar como|actues como|comportate como|haz de|you are now|ahora eres|a partir de ahora eres|from now on you|desde ahora eres|developer mode|modo desarrollador|jailbreak|do anything now|sin restricciones|without restrictions|no restrictions|unrestricted)\b/,
];
const ROLE_PREFIX = /^\s*\[?\s*(system|sistema|assistant|asistente|developer|admin)\s*\]?\s*:/i;

export function isPromptInjection(text: string): boolean {
  if (ROLE_PREFIX.test(text)) return true;
  const normalized = normalize(text);
  return INJECTION_PATTERNS.some((pattern) => pattern.test(normalized));
}

/** Arithmetic ("345 por 12", "x^2 - 4 = 0"): homework, never a business question. */
export function looksLikeMath(text: string): boolean {
  const lower = text.toLowerCase();
  return (
    /\d\s*[+*×÷/^=]\s*[\dx(]/.test(lower) ||
    /[a-z]\s*\^\s*\d/.test(lower) ||
    /\d+\s+(por|mas|menos|entre|times|plus|minus|divided by|multiplied by)\s+\d+/.test(lower)
  );
}

export type GreetingKind = 'hello' | 'thanks' | 'bye';

const collapseDoubles = (token: string) => token.replace(/([a-z])\1+/g, '$1');

/** A message made only of greetings, thanks or farewells ("hola buenas", "thanks a lot!"), else undefined. */
export function greetingKind(text: string): GreetingKind | undefined {
  const tokens = tokenize(text).map((token) => (/^(h+a+)+$|^(j+a+)+$/.test(token) ? 'ok' : token));
  if (tokens.length === 0 || tokens.length > 8) return undefined;
  const known = (token: string) =>
    [token, collapseDoubles(token)].some(
      (t) => GREETING_WORDS.hello.has(t) || GREETING_WORDS.thanks.has(t) || GREETING_WORDS.bye.has(t),
    );
  if (!tokens.every(known)) return undefined;
  const has = (keys: ReadonlySet<string>) => tokens.some((t) => keys.has(t) || keys.has(collapseDoubles(t)));
  if (has(GREETING_KEYS.thanks)) return 'thanks';
  if (has(GREETING_KEYS.bye)) return 'bye';
  if (has(GREETING_KEYS.hello)) return 'hello';
  return undefined;
}
