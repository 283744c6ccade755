import { normalize } from '../../text/normalize.ts';

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
