import { TethysError } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { currentSession } from '../session.ts';
import { CopyButton, ErrorText, Field, Notice, useAction, useLoad } from '../ui.tsx';

/**
 * The password pages: changing it while logged in (Account), and resetting a forgotten
 * one by e-mail (Forgot password → the mailed link → Choose a new password).
 */

function PasswordFields({
  password,
  confirm,
  onPassword,
  onConfirm,
  label = 'New password',
}: {
  password: string;
  confirm: string;
  onPassword: (v: string) => void;
  onConfirm: (v: string) => void;
  label?: string;
}) {
  return (
    <>
      <Field label={label} hint="At least 8 characters (the server may ask for more).">
        {(id, hint) => (
          <input
            id={id}
            type="password"
            autocomplete="new-password"
            required
            aria-describedby={hint}
            value={password}
            onInput={(e) => onPassword((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      <Field label={`${label} again`}>
        {(id) => (
          <input
            id={id}
            type="password"
            autocomplete="new-password"
            required
            value={confirm}
            onInput={(e) => onConfirm((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
    </>
  );
}

/** A refused new password, in words: the server's rule, or what went wrong. */
function passwordProblem(err: unknown): never {
  if (err instanceof TethysError && err.status === 400)
    throw new Error(
      `The server refused the new password: ${err.message}. Choose a longer one (at least 8 characters, or what your administrator requires).`,
    );
  throw err;
}

export function AccountPage() {
  const email = currentSession()?.email ?? '';
  const profile = useLoad((signal) => api(signal).users.profile(), []);
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const change = useAction(async () => {
    setDone(false);
    if (password !== confirm) throw new Error('The two new passwords differ.');
    // The current password is checked by logging in with it: a wrong one then says so,
    // instead of the server's refusal ending this session.
    let token: string;
    try {
      token = await api().users.login(email, current);
    } catch (err) {
      if (err instanceof TethysError && (err.status === 403 || err.status === 401))
        throw new Error('The current password is wrong.');
      throw err;
    }
    await api().withToken(token).users.changePassword(current, password).catch(passwordProblem);
    setCurrent('');
    setPassword('');
    setConfirm('');
    setDone(true);
  });
  return (
    <section>
      <h1>Account</h1>
      <dl class="facts">
        <dt>E-mail address</dt>
        <dd>{email}</dd>
        <dt>User id</dt>
        <dd>
          {profile.data ? (
            <>
              <code class="id">{profile.data.id}</code> <CopyButton text={profile.data.id} label="Copy id" />
            </>
          ) : profile.error ? (
            <ErrorText error={profile.error} prefix="Could not load your account" />
          ) : (
            <span class="muted">Loading…</span>
          )}
        </dd>
      </dl>
      <p class="muted small-text">Give your user id to a colleague who wants to add you to a group.</p>
      <div class="panel form-narrow">
        <h2>Change your password</h2>
        {done ? (
          <Notice kind="ok">
            Your password is changed. Use the new one the next time you log in; you stay logged in here.
          </Notice>
        ) : null}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            change.run();
          }}
        >
          <input type="text" autocomplete="username" value={email} hidden readOnly />
          <Field label="Current password">
            {(id) => (
              <input
                id={id}
                type="password"
                autocomplete="current-password"
                required
                value={current}
                onInput={(e) => setCurrent((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <PasswordFields
            password={password}
            confirm={confirm}
            onPassword={setPassword}
            onConfirm={setConfirm}
          />
          <ErrorText error={change.error} prefix="The password is not changed" />
          <div class="actions">
            <button type="submit" class="primary" disabled={change.busy}>
              {change.busy ? 'Changing…' : 'Change password'}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

/** Where the console is: the reset mail links here (+ the server's reset path). */
function consoleAddress(): string {
  return new URL('./', location.href).href;
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState('');
  const send = useAction(async () => {
    setSentTo('');
    try {
      await api().users.requestReset(email.trim(), consoleAddress());
    } catch (err) {
      if (err instanceof TethysError && err.status === 400)
        throw new Error('No account uses this e-mail address. Check it for typing mistakes.');
      if (err instanceof TethysError && err.status === 503)
        throw new Error(
          'This server cannot send e-mail (no mail server is set up), so passwords cannot be reset by e-mail. Ask your administrator to set one up, or to set a new password for you.',
        );
      if (err instanceof TethysError && err.status === 502)
        throw new Error('The mail server refused or failed to send the e-mail. Try again later.');
      throw err;
    }
    setSentTo(email.trim());
  });
  return (
    <section class="login card">
      <h1>
        <span aria-hidden="true">◎</span> Tethys
      </h1>
      <h2>Reset your password</h2>
      <p>Enter the e-mail address of your account. We send it a link to choose a new password.</p>
      {sentTo ? (
        <Notice kind="ok">
          A link is on its way to {sentTo}. It works for a few minutes; if it has run out, ask for another
          here.
        </Notice>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send.run();
        }}
      >
        <Field label="E-mail address">
          {(id) => (
            <input
              id={id}
              type="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <ErrorText error={send.error} prefix="No link was sent" />
        <div class="actions">
          <button type="submit" class="primary" disabled={send.busy}>
            {send.busy ? 'Sending…' : 'Send reset link'}
          </button>
        </div>
      </form>
      <p>
        Remembered it? <a href="#/login">Log in</a>
      </p>
    </section>
  );
}

export function ResetPasswordPage({ token }: { token: string }) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const reset = useAction(async () => {
    if (password !== confirm) throw new Error('The two passwords differ.');
    try {
      await api().users.resetPassword(token, password, confirm);
    } catch (err) {
      if (err instanceof TethysError && (err.status === 401 || err.status === 403))
        throw new Error('This link has run out or is not valid. Ask for a new one.');
      passwordProblem(err);
    }
    setDone(true);
  });
  return (
    <section class="login card">
      <h1>
        <span aria-hidden="true">◎</span> Tethys
      </h1>
      <h2>Choose a new password</h2>
      {!token ? (
        <>
          <p class="error" role="alert">
            This page needs the link from the reset e-mail, and the link it was opened with has no token.
          </p>
          <p>
            <a href="#/forgot-password">Ask for a new link</a>
          </p>
        </>
      ) : done ? (
        <>
          <Notice kind="ok">Your new password is set.</Notice>
          <p>
            <a href="#/login">Log in with it</a>
          </p>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            reset.run();
          }}
        >
          <PasswordFields
            password={password}
            confirm={confirm}
            onPassword={setPassword}
            onConfirm={setConfirm}
          />
          <ErrorText error={reset.error} prefix="The password is not set" />
          {reset.error ? (
            <p>
              <a href="#/forgot-password">Ask for a new link</a>
            </p>
          ) : null}
          <div class="actions">
            <button type="submit" class="primary" disabled={reset.busy}>
              {reset.busy ? 'Saving…' : 'Set new password'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
