import { escapeHtml } from '../web/escape.ts';
import type { EmailMessage } from './mailer.ts';

/**
 * The invitation a business receives when the operator creates it: its landing link (which carries
 * the single-use invitation token) and what to do next, in the tenant's language (Spanish or English;
 * other languages get English). HTML and plain text say the same thing.
 */

export interface InvitationEmailInput {
  to: string;
  businessName: string;
  language: string;
  /** `{PUBLIC_BASE_URL}/client/{slug}?invite={token}` */
  link: string;
  /** When the link stops working. */
  validUntil: string;
}

interface Wording {
  subject: (name: string) => string;
  greeting: (name: string) => string;
  intro: string;
  button: string;
  stepsTitle: string;
  steps: string[];
  validity: (date: string) => string;
  ignore: string;
}

const wordings: Record<'es' | 'en', Wording> = {
  es: {
    subject: (name) => `${name}: tu asistente de WhatsApp te espera`,
    greeting: (name) => `Hola, ${name}:`,
    intro:
      'Ya tienes un asistente de WhatsApp que responde a tus clientes con tus preguntas frecuentes. Abre tu página para empezar:',
    button: 'Abrir mi página',
    stepsTitle: 'Qué hacer después',
    steps: [
      'Al abrir el enlace verás tu clave de API una sola vez: guárdala en un lugar seguro.',
      'Revisa tus preguntas frecuentes, el mensaje de bienvenida y el horario.',
      'Conecta tu número de WhatsApp (credenciales de la Cloud API) y pulsa «Probar conexión».',
      'Activa o pausa el bot cuando quieras.',
    ],
    validity: (date) => `El enlace sirve una sola vez y caduca el ${date} (UTC).`,
    ignore: 'Si no esperabas este correo, ignóralo: sin el enlace no se puede hacer nada.',
  },
  en: {
    subject: (name) => `${name}: your WhatsApp assistant is waiting for you`,
    greeting: (name) => `Hello ${name},`,
    intro:
      'You now have a WhatsApp assistant that answers your customers from your FAQs. Open your page to get started:',
    button: 'Open my page',
    stepsTitle: 'What to do next',
    steps: [
      'Opening the link shows your API key once: keep it somewhere safe.',
      'Check your FAQs, welcome message and opening hours.',
      'Connect your WhatsApp number (Cloud API credentials) and press "Test connection".',
      'Turn the bot on or pause it whenever you like.',
    ],
    validity: (date) => `The link works once and expires on ${date} (UTC).`,
    ignore: 'If you did not expect this e-mail, ignore it: without the link nothing can be done.',
  },
};

/** `2026-12-09 14:03` from an ISO instant. */
const readableInstant = (iso: string) => iso.slice(0, 16).replace('T', ' ');

export function invitationEmail(input: InvitationEmailInput): EmailMessage {
  const words = wordings[input.language === 'es' ? 'es' : 'en'];
  const until = readableInstant(input.validUntil);
  // A name is the operator's input: one line, so it cannot add headers or fake paragraphs.
  const name = input.businessName.replace(/[\r\n]+/g, ' ').trim();
  const text = [
    words.greeting(name),
    '',
    words.intro,
    input.link,
    '',
    `${words.stepsTitle}:`,
    ...words.steps.map((step, index) => `${index + 1}. ${step}`),
    '',
    words.validity(until),
    words.ignore,
  ].join('\n');
  const html = `<!doctype html>
<html lang="${input.language === 'es' ? 'es' : 'en'}"><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${escapeHtml(words.greeting(name))}</p>
<p>${escapeHtml(words.intro)}</p>
<p><a href="${escapeHtml(input.link)}" style="display:inline-block;background:#128c7e;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${escapeHtml(words.button)}</a></p>
<p style="font-size:13px;color:#57606a">${escapeHtml(input.link)}</p>
<h3>${escapeHtml(words.stepsTitle)}</h3>
<ol>${words.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>
<p style="font-size:13px;color:#57606a">${escapeHtml(words.validity(until))}<br>${escapeHtml(words.ignore)}</p>
</body></html>`;
  return { to: input.to, subject: words.subject(name), html, text };
}
