/** The words of a handed-off chat, the same on the tenant's landing page and in the operator console. */
export const handoffWords = {
  es: {
    handoffPerson: 'Atendido por una persona hasta {time}',
    handoffPersonOpen: 'Atendido por una persona',
    handoffRequested: 'El cliente pidió hablar con una persona',
    handoffRequestedUntil: 'El cliente pidió hablar con una persona (hasta {time})',
    takeOver: 'Tomar el control',
    takeOverLabel: 'Tomar el control de la conversación con {name}',
    release: 'Devolver al bot',
    releaseLabel: 'Devolver al bot la conversación con {name}',
    released: 'El asistente vuelve a contestar en la conversación con {name}.',
  },
  en: {
    handoffPerson: 'Handled by a person until {time}',
    handoffPersonOpen: 'Handled by a person',
    handoffRequested: 'The customer asked to talk to a person',
    handoffRequestedUntil: 'The customer asked to talk to a person (until {time})',
    takeOver: 'Take over',
    takeOverLabel: 'Take over the conversation with {name}',
    release: 'Hand back to the bot',
    releaseLabel: 'Hand the conversation with {name} back to the bot',
    released: 'The assistant answers again in the conversation with {name}.',
  },
} as const;
