import crypto from 'node:crypto';
import net from 'node:net';

/**
 * A tiny SMTP server on a loopback socket: enough of RFC 5321 for a real client
 * (nodemailer) to deliver a message — EHLO/HELO, optional AUTH PLAIN / LOGIN /
 * CRAM-MD5, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT. It records every message and
 * every authentication attempt, so tests can read the mail the server sent.
 */
export interface SmtpMessage {
  from: string;
  to: string[];
  /** The message as received (dot-stuffing undone). */
  raw: string;
  /** Header names lower-cased; folded lines joined. */
  headers: Record<string, string>;
  /** The body, with quoted-printable or base64 transfer encoding undone. */
  body: string;
}

export interface SmtpAuthAttempt {
  method: 'PLAIN' | 'LOGIN' | 'CRAM-MD5';
  username: string;
  ok: boolean;
}

export interface SmtpOptions {
  /** When set, AUTH is advertised and required before MAIL FROM. */
  auth?: { username: string; password: string };
  /** Mechanisms advertised (default all three). */
  mechanisms?: SmtpAuthAttempt['method'][];
}

export interface SmtpServer {
  host: string;
  port: number;
  /** The credentials accepted from now on (a password rotation, as far as clients can tell). */
  auth: SmtpOptions['auth'];
  /** While true, every new connection is closed at once, before the greeting. */
  down: boolean;
  messages: SmtpMessage[];
  auths: SmtpAuthAttempt[];
  /** Every command line received, AUTH payloads included (for protocol assertions). */
  commands: string[];
  /** Resolves with the next message (or the n-th one overall) once it has arrived. */
  waitForMessage(count?: number, timeoutMs?: number): Promise<SmtpMessage>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseMessage(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  let body = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s.trim(), 'base64').toString('utf8');

export async function startSmtpServer(options: SmtpOptions = {}): Promise<SmtpServer> {
  const messages: SmtpMessage[] = [];
  const auths: SmtpAuthAttempt[] = [];
  const commands: string[] = [];
  const waiters: { count: number; resolve: (m: SmtpMessage) => void }[] = [];
  const sockets = new Set<net.Socket>();
  const mechanisms = options.mechanisms ?? ['PLAIN', 'LOGIN', 'CRAM-MD5'];
  const state = { auth: options.auth, down: false };

  const deliver = (m: SmtpMessage) => {
    messages.push(m);
    for (const w of [...waiters]) {
      if (messages.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages[w.count - 1]!);
      }
    }
  };

  const server = net.createServer((socket) => {
    if (state.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    const reply = (line: string) => socket.write(`${line}\r\n`);

    let buffer = '';
    let authenticated = !state.auth;
    let from: string | null = null;
    let to: string[] = [];
    let data: string[] | null = null;
    /** The continuation an AUTH exchange waits for (the next line is its answer). */
    let pending: ((line: string) => void) | null = null;

    const finishAuth = (method: SmtpAuthAttempt['method'], username: string, ok: boolean) => {
      auths.push({ method, username, ok });
      if (ok) {
        authenticated = true;
        reply('235 2.7.0 Authentication successful');
      } else {
        reply('535 5.7.8 Authentication credentials invalid');
      }
    };
    const checkPassword = (username: string, password: string) =>
      !!state.auth && username === state.auth.username && password === state.auth.password;

    const handleAuth = (args: string) => {
      const [mechanism = '', initial] = args.split(/\s+/);
      const method = mechanism.toUpperCase() as SmtpAuthAttempt['method'];
      if (!state.auth || !mechanisms.includes(method)) {
        reply('504 5.5.4 Unrecognized authentication type');
        return;
      }
      if (method === 'PLAIN') {
        const plain = (payload: string) => {
          const [, user = '', pass = ''] = unb64(payload).split('\u0000');
          finishAuth('PLAIN', user, checkPassword(user, pass));
        };
        if (initial) plain(initial);
        else {
          pending = plain;
          reply('334 ');
        }
      } else if (method === 'LOGIN') {
        const askPassword = (userLine: string) => {
          const user = unb64(userLine);
          pending = (passLine) => finishAuth('LOGIN', user, checkPassword(user, unb64(passLine)));
          reply(`334 ${b64('Password:')}`);
        };
        if (initial) askPassword(initial);
        else {
          pending = askPassword;
          reply(`334 ${b64('Username:')}`);
        }
      } else {
        const challenge = `<${crypto.randomBytes(8).toString('hex')}@127.0.0.1>`;
        pending = (answer) => {
          const [user = '', digest = ''] = unb64(answer).split(' ');
          const expected = state.auth
            ? crypto.createHmac('md5', state.auth.password).update(challenge).digest('hex')
            : '';
          finishAuth('CRAM-MD5', user, user === state.auth?.username && digest === expected);
        };
        reply(`334 ${b64(challenge)}`);
      }
    };

    const handleLine = (line: string) => {
      if (data) {
        if (line === '.') {
          const raw = data.join('\r\n');
          data = null;
          deliver({ from: from ?? '', to, raw, ...parseMessage(raw) });
          from = null;
          to = [];
          reply('250 2.0.0 OK: queued');
        } else {
          data.push(line.startsWith('..') ? line.slice(1) : line);
        }
        return;
      }
      commands.push(line);
      if (pending) {
        const next = pending;
        pending = null;
        if (line === '*') reply('501 5.7.0 Authentication cancelled');
        else next(line);
        return;
      }
      const space = line.indexOf(' ');
      const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
      const args = space === -1 ? '' : line.slice(space + 1);
      switch (verb) {
        case 'EHLO': {
          const lines = ['127.0.0.1 greets you', '8BITMIME', 'SIZE 10485760'];
          if (state.auth) lines.push(`AUTH ${mechanisms.join(' ')}`);
          for (const [i, l] of lines.entries()) reply(`250${i === lines.length - 1 ? ' ' : '-'}${l}`);
          break;
        }
        case 'HELO':
          reply('250 127.0.0.1');
          break;
        case 'AUTH':
          if (authenticated && state.auth) reply('503 5.5.1 Already authenticated');
          else handleAuth(args);
          break;
        case 'MAIL': {
          if (!authenticated) {
            reply('530 5.7.0 Authentication required');
            break;
          }
          const m = /^FROM:\s*<([^>]*)>/i.exec(args);
          if (!m) {
            reply('501 5.5.4 Syntax: MAIL FROM:<address>');
            break;
          }
          from = m[1]!;
          to = [];
          reply('250 2.1.0 OK');
          break;
        }
        case 'RCPT': {
          const m = /^TO:\s*<([^>]*)>/i.exec(args);
          if (!from) reply('503 5.5.1 Need MAIL first');
          else if (!m) reply('501 5.5.4 Syntax: RCPT TO:<address>');
          else {
            to.push(m[1]!);
            reply('250 2.1.5 OK');
          }
          break;
        }
        case 'DATA':
          if (!from || to.length === 0) reply('503 5.5.1 Need RCPT first');
          else {
            data = [];
            reply('354 End data with <CR><LF>.<CR><LF>');
          }
          break;
        case 'RSET':
          from = null;
          to = [];
          reply('250 2.0.0 OK');
          break;
        case 'NOOP':
          reply('250 2.0.0 OK');
          break;
        case 'QUIT':
          reply('221 2.0.0 Bye');
          socket.end();
          break;
        default:
          reply('502 5.5.2 Command not implemented');
      }
    };

    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\r\n');
      while (end !== -1) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        handleLine(line);
        end = buffer.indexOf('\r\n');
      }
    });
    reply('220 127.0.0.1 ESMTP test server');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    get auth() {
      return state.auth;
    },
    set auth(value) {
      state.auth = value;
    },
    get down() {
      return state.down;
    },
    set down(value) {
      state.down = value;
    },
    messages,
    auths,
    commands,
    waitForMessage(count = messages.length + 1, timeoutMs = 5000) {
      if (messages.length >= count) return Promise.resolve(messages[count - 1]!);
      return new Promise((resolve, reject) => {
        const waiter = {
          count,
          resolve: (m: SmtpMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no SMTP message #${count} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
