import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';

/** An e-mail with both an HTML and a plain-text body. */
export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** Sends e-mail; throws when the message was not accepted. */
export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/** Where invitations come from, or why none can be sent. */
export type SenderSettings =
  | { configured: true; from: string; configurationSet?: string | undefined }
  | { configured: false; reason: string };

/**
 * The sender address: SES_FROM_ADDRESS, else the SES identity itself when it is an address, else
 * `no-reply@<identity domain>`. Without an identity (a deployment without `sesIdentity`), none.
 */
export function senderSettings(config: {
  SES_FROM_ADDRESS?: string | undefined;
  EMAIL_IDENTITY?: string | undefined;
  SES_CONFIGURATION_SET?: string | undefined;
}): SenderSettings {
  const identity = config.EMAIL_IDENTITY?.trim();
  const from =
    config.SES_FROM_ADDRESS ??
    (identity ? (identity.includes('@') ? identity : `no-reply@${identity}`) : undefined);
  if (!from) {
    return {
      configured: false,
      reason: 'e-mail is not configured on this deployment (no SES identity or SES_FROM_ADDRESS)',
    };
  }
  return { configured: true, from, configurationSet: config.SES_CONFIGURATION_SET };
}

/** SES v2 `SendEmail` with `Content.Simple` (HTML and text, UTF-8). */
export function createSesMailer(
  ses: SESv2Client,
  settings: { from: string; configurationSet?: string | undefined },
): Mailer {
  return {
    async send(message) {
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: settings.from,
          Destination: { ToAddresses: [message.to] },
          ...(settings.configurationSet ? { ConfigurationSetName: settings.configurationSet } : {}),
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: {
                Html: { Data: message.html, Charset: 'UTF-8' },
                Text: { Data: message.text, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
    },
  };
}
