import fs from 'node:fs';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface Mailer {
  readonly configured: boolean;
  sendReset(to: string, link: string): Promise<void>;
}

/** Password-reset mail over SMTP, with Mainflux's settings (CONFIG.md §3). */
export function createMailer(email: Config['email']): Mailer {
  if (!email.host) {
    return {
      configured: false,
      sendReset: async () => {
        throw new Error('SMTP is not configured');
      },
    };
  }
  const auth = email.username
    ? email.secret
      ? { user: email.username, pass: email.secret, method: 'CRAM-MD5' }
      : { user: email.username, pass: email.password }
    : undefined;
  const transport = nodemailer.createTransport({
    host: email.host,
    port: email.port,
    secure: email.port === 465,
    ignoreTLS: false,
    auth,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 10_000,
    tls: { rejectUnauthorized: false },
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const template =
    email.template && fs.existsSync(email.template) ? fs.readFileSync(email.template, 'utf8') : '';
  return {
    configured: true,
    async sendReset(to, link) {
      // A function, not a string, as the replacement: the link carries the caller's Referer,
      // and `$&`, `$'` or `` $` `` in it would otherwise splice template text into the mail.
      const body = template
        ? template.replace(/\{\{\s*(\.Content|content)\s*\}\}/g, () => link)
        : `Use this link to reset your password:\n\n${link}\n\nIt is valid for 5 minutes.`;
      // Addresses as objects, so nodemailer does not parse them: a name with a quote or an
      // address with the rarer characters MODEL §2.1 allows goes out exactly as configured.
      await transport.sendMail({
        from: { name: email.fromName, address: email.fromAddress },
        to: { name: '', address: to },
        subject: 'Password reset',
        text: body,
      });
    },
  };
}
