import { describe, expect, it } from 'vitest';
import { parsePersonRequest } from '../../lib/conversation/person-request.ts';

/** Which messages ask for a person (and in which language), and which only mention one. */

describe('parsePersonRequest', () => {
  it.each([
    ['quiero hablar con una persona', 'es'],
    ['Quiero hablar con un humano!!', 'es'],
    ['¿Me pasas con el encargado?', 'es'],
    ['pásame con una persona', 'es'],
    ['necesito un agente', 'es'],
    ['¿Puedo hablar con alguien?', 'es'],
    ['HUMANO', 'es'],
    ['talk to a human', 'en'],
    ['I want to speak to an agent', 'en'],
    ['speak with a real person please', 'en'],
    ['Can I chat with someone?', 'en'],
    ['human please', 'en'],
    ['falar com um atendente', 'pt'],
    ['Quero falar com uma pessoa', 'pt'],
    ['preciso de um atendente', 'pt'],
    ['atendente', 'pt'],
  ])('"%s" → %s', (text, language) => {
    expect(parsePersonRequest(text)).toBe(language);
  });

  it.each([
    '¿Tenéis personal que hable inglés?',
    '¿Cuántas personas caben en la terraza?',
    'Do you have staff who speak English?',
    'Is the price per person?',
    'Mesa para 4 personas el sábado',
    'Vocês têm atendimento aos domingos?',
    'hola',
    '',
    `quiero hablar con una persona ${'sobre la reserva de grupo del sábado '.repeat(3)}`,
  ])('"%s" is not a request for a person', (text) => {
    expect(parsePersonRequest(text)).toBeUndefined();
  });
});
