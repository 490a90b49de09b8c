import { type IssuedKey, TethysError } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { currentSession } from '../session.ts';
import {
  Busy,
  Confirm,
  ErrorText,
  Field,
  formatTime,
  Notice,
  Secret,
  StepPager,
  useAction,
  useLoad,
} from '../ui.tsx';

/**
 * API keys for scripts. The API can create, view and revoke a key by id but cannot list
 * them, so the ids of keys created here are remembered in this browser (localStorage);
 * a key made elsewhere is not listed.
 */

interface StoredKey {
  id: string;
  label: string;
  issued_at: string;
  expires_at?: string;
}

const UNITS: Record<string, number> = { hours: 3600, days: 86400 };
const PAGE = 10;

function storageKey(): string {
  return `tethys.keys.${currentSession()?.email ?? ''}`;
}

function readStored(): StoredKey[] {
  try {
    const v = JSON.parse(localStorage.getItem(storageKey()) ?? '[]');
    return Array.isArray(v) ? (v as StoredKey[]) : [];
  } catch {
    return [];
  }
}

function writeStored(keys: StoredKey[]): void {
  localStorage.setItem(storageKey(), JSON.stringify(keys));
}

type KeyStatus = { state: 'active' | 'expired' | 'gone' } | { state: 'error'; error: unknown };

export function KeysPage() {
  const [stored, setStored] = useState<StoredKey[]>(readStored);
  const [amount, setAmount] = useState('30');
  const [unit, setUnit] = useState('days');
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<IssuedKey | null>(null);
  const [revoking, setRevoking] = useState<StoredKey | null>(null);
  const [notice, setNotice] = useState('');
  const [page, setPage] = useState(0);

  const update = (keys: StoredKey[]) => {
    writeStored(keys);
    setStored(keys);
  };

  const create = useAction(async () => {
    setNotice('');
    const n = Number(amount);
    if (unit !== 'never' && (!Number.isInteger(n) || n <= 0))
      throw new Error('The duration must be a whole number above 0.');
    const duration = unit === 'never' ? 0 : n * UNITS[unit]!;
    const data = await api().keys.issue(duration);
    setCreated(data);
    if (data.id) {
      update([
        { id: data.id, label: label.trim(), issued_at: data.issued_at, expires_at: data.expires_at },
        ...readStored(),
      ]);
      setPage(0);
    }
    setLabel('');
  });

  const visible = stored.slice(page * PAGE, (page + 1) * PAGE);
  const ids = visible.map((k) => k.id).join(',');
  // One GET /keys/{id} per key shown: whether it still exists on the server.
  const statuses = useLoad(
    async (signal) => {
      const out: Record<string, KeyStatus> = {};
      await Promise.all(
        visible.map(async (k) => {
          try {
            const data = await api(signal).keys.get(k.id);
            out[k.id] = {
              state: data.expires_at && new Date(data.expires_at) < new Date() ? 'expired' : 'active',
            };
          } catch (err) {
            out[k.id] =
              err instanceof TethysError && err.status === 404
                ? { state: 'gone' }
                : { state: 'error', error: err };
          }
        }),
      );
      return out;
    },
    [ids],
  );

  const pages = Math.max(1, Math.ceil(stored.length / PAGE));
  return (
    <section>
      <h1>API keys</h1>
      <p class="muted">
        An API key lets a script or tool act as you (it sends <code>Authorization: &lt;key&gt;</code>) until
        the key expires or you revoke it. Keys cannot be listed later, so this page shows the ones created in
        this browser.
      </p>
      <form
        class="card form-narrow"
        onSubmit={(e) => {
          e.preventDefault();
          create.run();
        }}
      >
        <h2>New API key</h2>
        <Field label="Label (kept in this browser only)">
          {(id) => (
            <input
              id={id}
              value={label}
              placeholder="e.g. CI import script"
              onInput={(e) => setLabel((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <div class="row">
          <Field label="Valid for">
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                disabled={unit === 'never'}
                value={amount}
                onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label="Unit">
            {(id) => (
              <select id={id} value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
                <option value="hours">hours</option>
                <option value="days">days</option>
                <option value="never">never expires</option>
              </select>
            )}
          </Field>
        </div>
        <ErrorText error={create.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create API key'}
          </button>
        </div>
      </form>
      {created?.value ? (
        <section class="card issued" aria-label="New API key">
          <p>
            <strong>Copy the key now: it is shown only once.</strong>
          </p>
          <p>
            <Secret value={created.value} label="API key" />
          </p>
          <p>
            <span class="muted">
              {created.expires_at ? `Expires ${formatTime(created.expires_at)}.` : 'Never expires.'}
            </span>{' '}
            <button type="button" class="small link" onClick={() => setCreated(null)}>
              I have copied it
            </button>
          </p>
        </section>
      ) : null}

      <h2>Keys created in this browser</h2>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {stored.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <>
          {statuses.loading ? <Busy label="Checking the keys…" /> : null}
          <div class="table-wrap">
            <table class="data">
              <caption class="visually-hidden">API keys created in this browser</caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">ID</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {visible.map((k) => {
                  const s = statuses.data?.[k.id];
                  return (
                    <tr key={k.id}>
                      <td data-label="Label">{k.label || <span class="muted">—</span>}</td>
                      <td data-label="ID">
                        <code class="id">{k.id}</code>
                      </td>
                      <td data-label="Issued">{formatTime(k.issued_at)}</td>
                      <td data-label="Expires">{k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
                      <td data-label="Status">
                        {!s ? (
                          <span class="muted">…</span>
                        ) : s.state === 'active' ? (
                          <span class="badge on">active</span>
                        ) : s.state === 'expired' ? (
                          <span class="badge off">expired</span>
                        ) : s.state === 'gone' ? (
                          <span class="badge off">revoked or expired</span>
                        ) : (
                          <ErrorText error={'error' in s ? s.error : null} />
                        )}
                      </td>
                      <td data-label="Actions" class="row-actions">
                        {s?.state === 'gone' ? (
                          <button
                            type="button"
                            class="small"
                            onClick={() => update(stored.filter((x) => x.id !== k.id))}
                          >
                            Forget<span class="visually-hidden"> {k.label || k.id}</span>
                          </button>
                        ) : (
                          <button type="button" class="small danger" onClick={() => setRevoking(k)}>
                            Revoke<span class="visually-hidden"> {k.label || k.id}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <StepPager label="Key" page={page} pages={pages} onPage={setPage} />
        </>
      )}
      {revoking ? (
        <Confirm
          title="Revoke API key"
          message={
            <p>
              Revoke the key <strong>{revoking.label || revoking.id}</strong>? Scripts using it are refused
              from now on.
            </p>
          }
          confirmLabel="Revoke key"
          onConfirm={async () => {
            await api().keys.revoke(revoking.id);
            update(readStored().filter((x) => x.id !== revoking.id));
            setNotice(`Revoked ${revoking.label || revoking.id}.`);
          }}
          onClose={() => setRevoking(null)}
        />
      ) : null}
    </section>
  );
}
