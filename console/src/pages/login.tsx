import { TethysError } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { signIn, takeNotice } from '../session.ts';
import { ErrorText, Field, Notice, useAction } from '../ui.tsx';

export function LoginPage({ mode }: { mode: 'login' | 'register' }) {
  const [notice] = useState(takeNotice);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const register = mode === 'register';

  const submit = useAction(async () => {
    if (register) {
      if (password !== confirm) throw new Error('The two passwords differ.');
      try {
        await api().users.register(email, password);
      } catch (err) {
        if (err instanceof TethysError && err.status === 409)
          throw new Error('An account with this e-mail address already exists. Log in instead.');
        throw err;
      }
    }
    try {
      signIn({ token: await api().users.login(email, password), email });
    } catch (err) {
      if (err instanceof TethysError && err.status === 403)
        throw new Error('Wrong e-mail address or password.');
      throw err;
    }
  });

  return (
    <section class="login card">
      <h1>
        <span aria-hidden="true">◎</span> Tethys
      </h1>
      <h2>{register ? 'Create an account' : 'Log in'}</h2>
      {notice ? <Notice kind="warn">{notice}</Notice> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit.run();
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
        <Field
          label="Password"
          hint={register ? 'At least 8 characters (the server may ask for more).' : undefined}
        >
          {(id, hint) => (
            <input
              id={id}
              type="password"
              autocomplete={register ? 'new-password' : 'current-password'}
              required
              aria-describedby={hint}
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        {register ? (
          <Field label="Password again">
            {(id) => (
              <input
                id={id}
                type="password"
                autocomplete="new-password"
                required
                value={confirm}
                onInput={(e) => setConfirm((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
        ) : null}
        <ErrorText error={submit.error} />
        {register ? null : (
          <p>
            <a href="#/forgot-password">Forgot password?</a>
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={submit.busy}>
            {submit.busy
              ? register
                ? 'Creating the account…'
                : 'Logging in…'
              : register
                ? 'Create account'
                : 'Log in'}
          </button>
        </div>
      </form>
      <p>
        {register ? (
          <>
            Already have an account? <a href="#/login">Log in</a>
          </>
        ) : (
          <>
            No account yet? <a href="#/register">Create one</a>
          </>
        )}
      </p>
    </section>
  );
}
