import { tokenize } from './normalize.ts';

/**
 * Greeting detection, shared by the offline FAQ responder (which answers a greeting with one) and
 * the conversation (where the welcome message is answer enough for a bare "hola").
 */

export type GreetingKind = 'hello' | 'thanks' | 'bye';

/** Words a message made only of greetings, thanks and farewells is built from (written normalized). */
const GREETING_WORDS = {
  hello: new Set(
    `hola holi ola buenas buenos buen dia dias tardes noches hey hi hii hello helo hallo hiya howdy yo good morning
    afternoon evening greetings saludos saludo que tal como estas esta va how are you u doing there whats up sup
    all everyone equipo team ey eh alo mate guys folks chicos chicas`.split(/\s+/),
  ),
  thanks: new Set(
    `gracias grax grcs thanks thank thx ty tysm cheers agradecido agradecida muchas mil muchisimas a lot so much very
    you u perfecto perfect genial great vale ok okay okey de acuerdo cool nice amable muy super estupendo
    fenomenal entendido understood mate guys chicos`.split(/\s+/),
  ),
  bye: new Set(
    `adios chao chau ciao bye goodbye hasta luego pronto manana see later cya nos vemos un saludo`.split(
      /\s+/,
    ),
  ),
};

/** Words that carry the intent of a greeting-only message (the rest of GREETING_WORDS is filler). */
const GREETING_KEYS = {
  hello: new Set(
    `hola holi ola buenas buenos hey hi hii hello helo hallo hiya howdy good saludos greetings ey alo`.split(
      /\s+/,
    ),
  ),
  thanks: new Set(`gracias grax grcs thanks thank thx ty tysm cheers agradecido agradecida`.split(/\s+/)),
  bye: new Set(`adios chao chau ciao bye goodbye luego cya vemos`.split(/\s+/)),
};

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

/** Whether a message is nothing but a hello ("hola", "buenas tardes"); thanks and farewells are not. */
export const isGreetingOnly = (text: string | undefined): boolean => !!text && greetingKind(text) === 'hello';
