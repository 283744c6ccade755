import { normalize } from '../text/normalize.ts';

/**
 * The few fixed things the assistant says, in Spanish and English (other languages fall back to
 * the tenant's language when it is one of these, else English), and the bot commands customers and
 * agents type in a chat ("suspender bot" / "activar bot").
 */
export type ReplyLanguage = 'es' | 'en';

export const replyLanguage = (language: string): ReplyLanguage => (language === 'es' ? 'es' : 'en');

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
  },
  resumed: {
    es: 'Las respuestas automáticas vuelven a estar activas. ¿En qué puedo ayudarte?',
    en: 'Automatic replies are back on. How can I help you?',
  },
  textOnly: {
    es: 'Por ahora solo puedo leer mensajes de texto. ¿Puedes escribirme tu pregunta?',
    en: 'For now I can only read text messages. Could you type your question?',
  },
} satisfies Record<string, Record<ReplyLanguage, string>>;
