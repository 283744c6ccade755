import { describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH } from '../../lib/conversation/ports.ts';
import { splitText } from '../../lib/text/split.ts';

const squash = (value: string) => value.replace(/\s+/g, '');

function expectWellFormedParts(parts: string[], max: number) {
  for (const part of parts) {
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThanOrEqual(max);
    expect(part.trim()).toBe(part);
    expect(part.isWellFormed()).toBe(true);
  }
}

describe('splitText', () => {
  it('keeps a text that fits as one part', () => {
    expect(splitText('Abrimos a las 9.', MAX_TEXT_LENGTH)).toEqual(['Abrimos a las 9.']);
  });

  it('returns no parts for an empty or blank text', () => {
    expect(splitText('', MAX_TEXT_LENGTH)).toEqual([]);
    expect(splitText(' \n\n\t ', MAX_TEXT_LENGTH)).toEqual([]);
  });

  it('accepts exactly max characters, splits at max + 1', () => {
    expect(splitText('a'.repeat(4096), MAX_TEXT_LENGTH)).toHaveLength(1);
    expect(splitText('a'.repeat(4097), MAX_TEXT_LENGTH)).toHaveLength(2);
  });

  it('prefers a paragraph break to a later sentence end, and packs paragraphs that fit together', () => {
    const p1 = 'Horario: de 9 a 14 h. Luego cerramos.';
    const p2 = 'Sábados: de 10 a 13 h. Domingos no.';
    const p3 = 'Reservas por teléfono. Gracias por escribir.';
    // Given a limit that would also reach the first sentence of p3
    expect(`${p1}\n\n${p2}\n\nReservas por teléfono.`.length).toBeLessThanOrEqual(100);
    // Then the cut is at the paragraph break
    expect(splitText([p1, p2, p3].join('\n\n'), 100)).toEqual([`${p1}\n\n${p2}`, p3]);
    // And each paragraph stands alone when two do not fit
    expect(splitText([p1, p2, p3].join('\n\n'), 50)).toEqual([p1, p2, p3]);
  });

  it('splits at sentence ends when there is no paragraph break', () => {
    const text =
      'Primera frase bastante larga aquí. Segunda frase también larga! ¿Tercera frase con pregunta? Fin.';
    const parts = splitText(text, 50);
    expectWellFormedParts(parts, 50);
    expect(parts[0]).toBe('Primera frase bastante larga aquí.');
    expect(parts.every((part) => /[.!?]$/.test(part))).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });

  it('splits at spaces when there is no sentence end, never inside a word', () => {
    const words = Array.from({ length: 60 }, (_, i) => `palabra${i}`);
    const parts = splitText(words.join(' '), 40);
    expectWellFormedParts(parts, 40);
    expect(parts.join(' ').split(' ')).toEqual(words);
  });

  it('hard-cuts only a single word longer than max', () => {
    const url = `https://example.com/${'x'.repeat(120)}`;
    const parts = splitText(`Mira: ${url} gracias`, 50);
    expectWellFormedParts(parts, 50);
    expect(parts[0]).toBe('Mira:');
    expect(parts.at(-1)).toMatch(/gracias$/);
    expect(squash(parts.join(''))).toBe(squash(`Mira: ${url} gracias`));
  });

  it('does not cut an emoji (surrogate pair) in half', () => {
    const text = '😀'.repeat(20);
    const parts = splitText(text, 5);
    expectWellFormedParts(parts, 5);
    expect(parts.join('')).toBe(text);
    expect(parts[0]).toBe('😀😀');
  });

  it('keeps ZWJ emoji sequences whole', () => {
    const family = '👨‍👩‍👧'; // 8 code units
    const text = family.repeat(5);
    const parts = splitText(text, 20);
    expectWellFormedParts(parts, 20);
    expect(parts.every((part) => part === family.repeat(part.length / family.length))).toBe(true);
    expect(parts.join('')).toBe(text);
  });

  it('keeps order and content of a long reply at the WhatsApp limit', () => {
    const paragraph = 'Nuestro menú del día incluye primero, segundo y postre. '.repeat(20).trim();
    const text = Array.from({ length: 12 }, (_, i) => `${i + 1}. ${paragraph}`).join('\n\n');
    const parts = splitText(text, MAX_TEXT_LENGTH);
    expect(parts.length).toBeGreaterThan(1);
    expectWellFormedParts(parts, 4096);
    expect(squash(parts.join(''))).toBe(squash(text));
    expect(parts.every((part) => /^\d+\. /.test(part))).toBe(true);
  });

  it('holds its guarantees on random text (fuzz)', () => {
    const pieces = [
      'hola',
      'qué',
      'tal',
      '😀',
      '👨‍👩‍👧',
      '.',
      '!',
      ' ',
      ' ',
      '\n',
      '\n\n',
      'x'.repeat(30),
      'ñandú',
      '🇪🇸',
    ];
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 300; run++) {
      const max = 2 + Math.floor(random() * 60);
      const text = Array.from(
        { length: Math.floor(random() * 80) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      const parts = splitText(text, max);
      expectWellFormedParts(parts, max);
      expect(squash(parts.join(''))).toBe(squash(text));
    }
  });

  it('rejects a max below 2', () => {
    expect(() => splitText('hola', 1)).toThrow(RangeError);
  });
});
