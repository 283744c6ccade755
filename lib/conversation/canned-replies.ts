import { normalize } from '../text/normalize.ts';

/**
 * The few fixed things the assistant says, in Spanish, English and Portuguese (in the tenant's
 * language when it is one of these, else English), and the bot commands customers and
 * agents type in a chat ("suspender bot" / "activar bot").
 */
export type ReplyLanguage = 'es' | 'en' | 'pt';

export const replyLanguage = (language: string): ReplyLanguage =>
  language === 'es' || language === 'pt' ? language : 'en';

const COMMANDS: Record<string, { command: 'pause' | 'resume'; language: ReplyLanguage }> = {
  'suspender bot': { command: 'pause', language: 'es' },
  'pausar bot': { command: 'pause', language: 'es' },
  'desactivar bot': { command: 'pause', language: 'es' },
  'activar bot': { command: 'resume', language: 'es' },
  'reanudar bot': { command: 'resume', language: 'es' },
  'pause bot': { command: 'pause', language: 'en' },
  'stop bot': { command: 'pause', language: 'en' },
  'resume bot': { command: 'resume', language: 'en' },
  'start bot': { command: 'resume', language: 'en' },
};

/** A bot command when the whole message is one (case, accents and punctuation ignored). */
export function parseBotCommand(text: string | undefined) {
  if (!text || text.length > 40) return undefined;
  return COMMANDS[normalize(text)];
}

export const cannedReplies = {
  paused: {
    es: 'He pausado las respuestas automáticas en esta conversación. Escribe "activar bot" para reanudarlas.',
    en: 'Automatic replies are paused in this conversation. Write "resume bot" to turn them back on.',
    pt: 'Pausei as respostas automáticas nesta conversa. Escreva "activar bot" para retomá-las.',
  },
  resumed: {
    es: 'Las respuestas automáticas vuelven a estar activas. ¿En qué puedo ayudarte?',
    en: 'Automatic replies are back on. How can I help you?',
    pt: 'As respostas automáticas estão ativas de novo. Como posso ajudar?',
  },
  /** A voice note, picture or file the assistant cannot take in (no model, a failure, the daily cap). */
  textOnly: {
    es: 'Por ahora solo puedo leer mensajes de texto. ¿Puedes escribirme tu pregunta? Si lo prefieres, una persona del equipo te ayudará.',
    en: 'For now I can only read text messages. Could you type your question? If you prefer, a person from the team will help you.',
    pt: 'Por enquanto só consigo ler mensagens de texto. Pode escrever a sua pergunta? Se preferir, uma pessoa da equipe vai ajudar.',
  },
  audioTooLong: {
    es: 'Tu audio es demasiado largo para mí. ¿Puedes escribirme tu pregunta en un mensaje corto?',
    en: 'Your audio is too long for me. Could you write your question in a short message?',
    pt: 'O seu áudio é longo demais para mim. Pode escrever a sua pergunta numa mensagem curta?',
  },
  notOpened: {
    es: 'No he podido abrir el archivo que enviaste. ¿Puedes escribirme tu pregunta?',
    en: "I couldn't open the file you sent. Could you type your question?",
    pt: 'Não consegui abrir o arquivo que você enviou. Pode escrever a sua pergunta?',
  },
  /** Before the answer to a caption or to the rest of a burst: media that was not taken in. */
  mediaUnreadNote: {
    es: 'Por ahora solo puedo leer texto: no he podido ver ni escuchar lo que enviaste.',
    en: "For now I can only read text: I couldn't see or hear what you sent.",
    pt: 'Por enquanto só consigo ler texto: não consegui ver nem ouvir o que você enviou.',
  },
  fileNotOpenedNote: {
    es: 'No he podido abrir el archivo que enviaste.',
    en: "I couldn't open the file you sent.",
    pt: 'Não consegui abrir o arquivo que você enviou.',
  },
  locationReceived: {
    es: 'Gracias, he recibido la ubicación. ¿En qué puedo ayudarte?',
    en: 'Thanks, I got the location. How can I help you?',
    pt: 'Obrigado, recebi a localização. Como posso ajudar?',
  },
  contactsReceived: {
    es: 'Gracias, he recibido el contacto. ¿En qué puedo ayudarte?',
    en: 'Thanks, I got the contact. How can I help you?',
    pt: 'Obrigado, recebi o contato. Como posso ajudar?',
  },
} satisfies Record<string, Record<ReplyLanguage, string>>;

/** What the assistant says it heard, before its answer, when a transcript is not certain. */
export const heardAs: Record<ReplyLanguage, (transcript: string) => string> = {
  es: (transcript) => `Entendí tu audio así: «${transcript}».`,
  en: (transcript) => `Here is what I understood from your audio: "${transcript}".`,
  pt: (transcript) => `Entendi o seu áudio assim: «${transcript}».`,
};
