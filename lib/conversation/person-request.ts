import type { Client } from '../tenants/client.ts';
import { normalize } from '../text/normalize.ts';
import { defaultHandoffUntil } from './handoff.ts';
import type { ContactUpdates } from './ports.ts';

/**
 * A customer asking for a person ("quiero hablar con una persona", "talk to a human", "falar com um
 * atendente"): they are told a person will answer, and the chat is handed off. Only a short message
 * that is plainly such a request counts, matched on normalized words (case, accents and punctuation
 * ignored), so a question about the business that happens to use one of the words ("¿tenéis
 * personal que hable inglés?", "is there a person in charge of groups?") is answered as usual.
 */

export type PersonRequestLanguage = 'es' | 'en' | 'pt';

/** Longer messages say more than "a person, please": the assistant answers them. */
const MAX_REQUEST_LENGTH = 80;

/** Whom a customer may ask for, per language (normalized: no accents). */
const PERSON = {
  es: '(?:una |un |el |la |alguna |algun |algun otro |otra |otro )?(?:persona|persona real|humano|ser humano|agente|asesor|asesora|operador|operadora|encargado|encargada|empleado|empleada|gerente|alguien|responsable)',
  en: '(?:a |an |the |some |real |a real |an actual )?(?:human|human being|person|real person|agent|live agent|representative|rep|operator|manager|someone|somebody|staff member|employee)',
  pt: '(?:um |uma |o |a |algum |alguma )?(?:atendente|humano|pessoa|pessoa real|agente|operador|operadora|alguem|funcionario|funcionaria|gerente|responsavel)',
} satisfies Record<PersonRequestLanguage, string>;

/** A verb of talking (or being attended) followed by "with"/"to" and a person, per language. */
const REQUEST_PATTERNS: Record<PersonRequestLanguage, RegExp[]> = {
  es: [
    new RegExp(
      `\\b(?:hablar|habla|hable|charlar|conversar|comunicarme|contactar|chatear) (?:con|a) ${PERSON.es}\\b`,
    ),
    new RegExp(
      `\\b(?:pasame|pasa|pasas|pasarme|paseme|ponme|ponerme|quiero|necesito|prefiero) (?:con )?${PERSON.es}$`,
    ),
    /\b(?:me atienda|que me atienda|atencion) (?:una |un )?(?:persona|humano|humana|agente)\b/,
  ],
  en: [
    new RegExp(`\\b(?:talk|speak|chat) (?:to|with) ${PERSON.en}\\b`),
    new RegExp(
      `\\b(?:want|need|get me|give me|connect me to|transfer me to|put me through to) ${PERSON.en}(?: please)?$`,
    ),
  ],
  pt: [
    new RegExp(`\\b(?:falar|fala|conversar|comunicar) com ${PERSON.pt}\\b`),
    new RegExp(`\\b(?:quero|preciso de|preciso|me passa para|me passe para|me transfere para) ${PERSON.pt}$`),
  ],
};

/** A message that is only the person asked for ("humano", "agent please", "atendente"). */
const BARE_REQUESTS: Record<string, PersonRequestLanguage> = {
  humano: 'es',
  persona: 'es',
  'una persona': 'es',
  'persona por favor': 'es',
  'humano por favor': 'es',
  agente: 'es',
  asesor: 'es',
  operador: 'es',
  human: 'en',
  'human please': 'en',
  'a human': 'en',
  'a human please': 'en',
  agent: 'en',
  'agent please': 'en',
  'live agent': 'en',
  representative: 'en',
  atendente: 'pt',
  'atendente por favor': 'pt',
  'um atendente': 'pt',
  'uma pessoa': 'pt',
  pessoa: 'pt',
};

/** Which language a request for a person was written in; undefined when the message is not one. */
export function parsePersonRequest(text: string | undefined): PersonRequestLanguage | undefined {
  if (!text || text.length > MAX_REQUEST_LENGTH) return undefined;
  const normalized = normalize(text);
  const bare = BARE_REQUESTS[normalized];
  if (bare) return bare;
  for (const language of ['es', 'pt', 'en'] as const) {
    if (REQUEST_PATTERNS[language].some((pattern) => pattern.test(normalized))) return language;
  }
  return undefined;
}

/** What the customer is told, in the language they asked in. */
export const personWillAnswer: Record<PersonRequestLanguage, string> = {
  es: 'De acuerdo: una persona del equipo te responderá por aquí lo antes posible.',
  en: 'Of course: a person from the team will reply here as soon as possible.',
  pt: 'Claro: uma pessoa da equipe vai responder por aqui o mais rápido possível.',
};

/**
 * The reply to a request for a person and the handoff it starts (applied with the plan, before the
 * reply is sent: the check before each send lets a customer's own request through). It lasts the
 * tenant's `handoff_minutes`, like a person's message: if nobody of the business answers in that
 * time, the bot answers the customer's next message rather than leave them without any answer.
 */
export function personRequestPlan(
  client: Pick<Client, 'handoff_minutes'>,
  language: PersonRequestLanguage,
  now: Date,
): { plan: string[]; contactUpdates: ContactUpdates } {
  return {
    plan: [personWillAnswer[language]],
    contactUpdates: {
      handoff_until: defaultHandoffUntil(client, now).toISOString(),
      handoff_by: 'customer_request',
    },
  };
}
