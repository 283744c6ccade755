import type { GreetingKind } from '../../text/greetings.ts';
import type { Lang } from './lexicon.ts';

/**
 * Fixed replies of the offline responder, in the customer's language. They name the business and
 * never pretend to know more than its FAQs.
 */
export function declineMessage(language: Lang, businessName: string): string {
  return language === 'en'
    ? `Sorry, I can only help with questions about ${businessName}. If you need anything else, a person from the team will get back to you as soon as possible.`
    : `Lo siento, solo puedo ayudarte con preguntas sobre ${businessName}. Si necesitas otra cosa, una persona del equipo te responderá lo antes posible.`;
}

export function greetingMessage(kind: GreetingKind, language: Lang, businessName: string): string {
  if (language === 'en') {
    if (kind === 'thanks')
      return `You're welcome! If you have any other question about ${businessName}, just ask.`;
    if (kind === 'bye') return `Goodbye! Thanks for contacting ${businessName}.`;
    return `Hi! I'm the virtual assistant of ${businessName}. How can I help you?`;
  }
  if (kind === 'thanks')
    return `¡De nada! Si tienes cualquier otra pregunta sobre ${businessName}, aquí estoy.`;
  if (kind === 'bye') return `¡Hasta pronto! Gracias por escribir a ${businessName}.`;
  return `¡Hola! Soy el asistente virtual de ${businessName}. ¿En qué puedo ayudarte?`;
}

/** The tenant's configured opening hours, when no FAQ answers a question about them. */
export function hoursMessage(language: Lang, businessName: string, businessHours: string): string {
  return language === 'en'
    ? `The opening hours of ${businessName} are: ${businessHours}`
    : `El horario de ${businessName} es: ${businessHours}`;
}
