import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Meta's example webhook bodies (a copy of shared/fixtures/meta-webhooks.json, so the repository stands alone). */
const fixturePath = join(import.meta.dirname, '../fixtures/meta-webhooks.json');

const all = JSON.parse(readFileSync(fixturePath, 'utf8')) as { examples: Record<string, unknown> };

/** A deep copy of one example body, to change freely. */
export function metaExample(name: string): Record<string, any> {
  const example = all.examples[name];
  if (!example) throw new Error(`no fixture ${name}`);
  return structuredClone(example) as Record<string, any>;
}

/** Serializes like Meta: JSON with every non-ASCII character escaped as \uXXXX. */
export function metaJson(body: unknown): string {
  return JSON.stringify(body).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export const laPlazaFaqs = [
  {
    q: '¿Cuál es vuestro horario?',
    a: 'Abrimos de lunes a viernes de 9:00 a 22:00, y sábados de 10:00 a 23:00',
  },
  { q: '¿Hacéis reservas?', a: 'Sí, puedes reservar llamando al +34666777888 o a través de nuestra web' },
  {
    q: '¿Tenéis menú del día?',
    a: 'Sí, nuestro menú del día cuesta 12€ e incluye primer plato, segundo, postre y bebida',
  },
];
