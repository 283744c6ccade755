/**
 * The demo tenant `npm start` creates: the business of seed 003 (Restaurante La Plaza, its FAQs,
 * welcome and hours) on a clearly fake number, so the seed's own `POST /clients` example — with the
 * real-looking phone_number_id 631261586727899 — can still be run against the local stack.
 * `DEMO_TENANT=off` starts the stack without it. No node or AWS imports: main.ts and simulate.ts
 * may read it cheaply.
 */

/** A fictional number: +1 555 numbers are reserved for fiction, and no Meta number has this id. */
export const DEMO_PHONE_NUMBER = '+15555550100';
export const DEMO_PHONE_NUMBER_ID = '100000000000001';

/** The number the demo tenant held before; a data directory from then is moved off it on start. */
export const LEGACY_DEMO_PHONE_NUMBER_ID = '631261586727899';

export const demoClient = {
  name: 'Restaurante La Plaza',
  phone_number: DEMO_PHONE_NUMBER,
  phone_number_id: DEMO_PHONE_NUMBER_ID,
  faqs: [
    {
      q: '¿Cuál es vuestro horario?',
      a: 'Abrimos de lunes a viernes de 9:00 a 22:00, y sábados de 10:00 a 23:00',
    },
    { q: '¿Hacéis reservas?', a: 'Sí, puedes reservar llamando al +34666777888 o a través de nuestra web' },
    {
      q: '¿Tenéis menú del día?',
      a: 'Sí, nuestro menú del día cuesta 12€ e incluye primer plato, segundo, postre y bebida',
    },
  ],
  welcome_message: '¡Hola! Soy el asistente virtual del Restaurante La Plaza. ¿En qué puedo ayudarte?',
  business_hours: 'L-V: 9:00-22:00, S: 10:00-23:00',
};

/** Whether the environment asks for the demo tenant (`DEMO_TENANT=off`, `false`, `0` or `no` turn it off). */
export function demoTenantWanted(value: string | undefined): boolean {
  return !/^(off|false|0|no)$/i.test((value ?? '').trim());
}
