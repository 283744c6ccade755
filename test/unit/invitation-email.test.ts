import { describe, expect, it } from 'vitest';
import { invitationEmail } from '../../lib/email/invitation-email.ts';
import { senderSettings } from '../../lib/email/mailer.ts';
import { generateInvitationToken } from '../../lib/tenants/tenant-tokens.ts';

const link = `https://wa.example.com/client/abc123?invite=${generateInvitationToken().token}`;
const base = { to: 'ana@example.com', link, validUntil: '2026-12-09T14:03:27.000Z' };

describe('the invitation e-mail', () => {
  it('given a Spanish tenant, then subject, text and HTML are in Spanish and carry the link', () => {
    const mail = invitationEmail({ ...base, businessName: 'Peluquería Ana', language: 'es' });
    expect(mail.to).toBe('ana@example.com');
    expect(mail.subject).toBe('Peluquería Ana: tu asistente de WhatsApp te espera');
    expect(mail.text).toContain(link);
    expect(mail.text).toContain('Probar conexión');
    expect(mail.text).toContain('caduca el 2026-12-09 14:03');
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toContain('<html lang="es">');
  });

  it('given another language, then it is in English', () => {
    const mail = invitationEmail({ ...base, businessName: 'Ana Hair', language: 'de' });
    expect(mail.subject).toBe('Ana Hair: your WhatsApp assistant is waiting for you');
    expect(mail.text).toContain('Test connection');
    expect(mail.html).toContain('<html lang="en">');
  });

  it('given a name with markup and line breaks, then the HTML escapes it and the subject stays one line', () => {
    const mail = invitationEmail({ ...base, businessName: '<b>Ana</b>\r\nBcc: x@y', language: 'en' });
    expect(mail.html).not.toContain('<b>Ana</b>');
    expect(mail.html).toContain('&lt;b&gt;Ana&lt;/b&gt;');
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });
});

describe('the sender of invitations', () => {
  it('is SES_FROM_ADDRESS when given, the identity when it is an address, no-reply@ a domain identity', () => {
    expect(senderSettings({ SES_FROM_ADDRESS: 'hola@example.com', EMAIL_IDENTITY: 'example.com' })).toEqual({
      configured: true,
      from: 'hola@example.com',
      configurationSet: undefined,
    });
    expect(senderSettings({ EMAIL_IDENTITY: 'bot@example.com', SES_CONFIGURATION_SET: 'cs' })).toEqual({
      configured: true,
      from: 'bot@example.com',
      configurationSet: 'cs',
    });
    expect(senderSettings({ EMAIL_IDENTITY: 'example.com' })).toMatchObject({ from: 'no-reply@example.com' });
  });

  it('given no identity and no address, then e-mail is not configured, with the reason', () => {
    const settings = senderSettings({ EMAIL_IDENTITY: '' });
    expect(settings.configured).toBe(false);
    expect(settings).toMatchObject({ reason: expect.stringMatching(/not configured/) });
  });
});
