import { type Config, TethysError } from '@tethys/sdk';
import { useId, useState } from 'preact/hooks';
import { api } from '../api.ts';
import {
  Busy,
  CopyButton,
  Dialog,
  ErrorText,
  Field,
  JsonEditor,
  Notice,
  useAction,
  useLoad,
} from '../ui.tsx';

/**
 * The bootstrap config forms: a config made by hand (for a gateway set up without the
 * provisioning page), and a config's channels and certificates changed later.
 */

interface ChosenChannel {
  id: string;
  name?: string;
}

function jsonOrEmpty(text: string): string {
  if (text.trim() === '') return '';
  try {
    JSON.parse(text);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** Plain words for the refusals of the config routes. */
function configProblem(err: unknown): never {
  if (err instanceof TethysError) {
    if (err.status === 409)
      throw new Error(
        'This external id is already used by another config, or the thing already has a config. Each gateway needs its own.',
      );
    if (err.status === 404 && /add/.test(err.message))
      throw new Error(
        'No thing of yours has this id. Check the id on the thing’s page, or create a new thing.',
      );
    if (err.status === 400 && /channel|connection/.test(err.message))
      throw new Error(
        'One of the chosen channels is not yours or no longer exists. Remove it and try again.',
      );
  }
  throw err;
}

/** A random external key: 32 hex digits from the browser's secure random source. */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A secret entered in a form: dots until revealed, with a copy button. */
function SecretInput({
  label,
  value,
  onInput,
  hint,
  required,
  multiline,
  generate,
}: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  hint?: string;
  required?: boolean;
  /** A text area (PEM keys), masked by the browser's text-security rendering. */
  multiline?: boolean;
  generate?: () => string;
}) {
  const [shown, setShown] = useState(false);
  return (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <>
          {multiline ? (
            <textarea
              id={id}
              class={shown ? 'code' : 'code masked'}
              rows={5}
              spellcheck={false}
              autocomplete="off"
              aria-describedby={hintId}
              value={value}
              onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
            />
          ) : (
            <input
              id={id}
              type={(shown ? 'text' : 'password') as 'text'}
              autocomplete="off"
              spellcheck={false}
              required={required}
              aria-describedby={hintId}
              value={value}
              onInput={(e) => onInput((e.target as HTMLInputElement).value)}
            />
          )}
          <span class="secret-tools">
            <button type="button" class="small" aria-pressed={shown} onClick={() => setShown(!shown)}>
              {shown ? 'Hide' : 'Reveal'}
              <span class="visually-hidden"> {label}</span>
            </button>
            {generate ? (
              <button type="button" class="small" onClick={() => onInput(generate())}>
                Generate<span class="visually-hidden"> {label}</span>
              </button>
            ) : null}
            {value ? <CopyButton text={value} label="Copy" /> : null}
          </span>
        </>
      )}
    </Field>
  );
}

/** The config's channels, in order (the gateway uses the first for control), chosen from yours by name. */
export function ChannelPicker({
  chosen,
  onChange,
}: {
  chosen: ChosenChannel[];
  onChange: (c: ChosenChannel[]) => void;
}) {
  const [name, setName] = useState('');
  const listId = useId();
  const channels = useLoad(
    async (signal) =>
      (await api(signal).channels.list({ name: name.trim() || undefined, limit: 10 })).channels,
    [name],
  );
  const has = (id: string) => chosen.some((c) => c.id === id);
  const toggle = (c: ChosenChannel) =>
    onChange(has(c.id) ? chosen.filter((x) => x.id !== c.id) : [...chosen, c]);
  return (
    <fieldset class="choices">
      <legend>Channels</legend>
      <p class="hint" id={listId}>
        The gateway gets these channels, in this order; it uses the first one for control messages.
      </p>
      {chosen.length ? (
        <ol class="chosen" aria-describedby={listId}>
          {chosen.map((c) => (
            <li key={c.id}>
              {c.name || <em>unnamed channel</em>} <code class="id">{c.id}</code>{' '}
              <button type="button" class="small" onClick={() => toggle(c)}>
                Remove<span class="visually-hidden"> {c.name || c.id}</span>
              </button>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No channels chosen.</p>
      )}
      <Field label="Find channels by name">
        {(id) => (
          <input
            id={id}
            type="search"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      <ErrorText error={channels.error} prefix="Could not load your channels" />
      {channels.loading && !channels.data ? <Busy label="Loading channels…" /> : null}
      {channels.data?.length === 0 ? <p class="empty">No channel matches.</p> : null}
      {channels.data?.map((c) => (
        <label key={c.id} class="check">
          <input type="checkbox" checked={has(c.id)} onChange={() => toggle({ id: c.id, name: c.name })} />{' '}
          {c.name || 'unnamed channel'} <code class="id">{c.id}</code>
        </label>
      ))}
    </fieldset>
  );
}

interface Certs {
  client_cert: string;
  client_key: string;
  ca_cert: string;
}

function pemProblem(certs: Certs): string {
  const bad = (
    [
      ['client certificate', certs.client_cert],
      ['client key', certs.client_key],
      ['CA certificate', certs.ca_cert],
    ] as const
  ).find(([, v]) => v.trim() && !v.includes('-----BEGIN'));
  return bad ? `The ${bad[0]} is not in PEM form (it starts with -----BEGIN …).` : '';
}

function CertFields({ certs, onChange }: { certs: Certs; onChange: (c: Certs) => void }) {
  const area = (label: string, key: 'client_cert' | 'ca_cert') => (
    <Field label={label}>
      {(id) => (
        <textarea
          id={id}
          class="code"
          rows={5}
          spellcheck={false}
          placeholder="-----BEGIN CERTIFICATE-----"
          value={certs[key]}
          onInput={(e) => onChange({ ...certs, [key]: (e.target as HTMLTextAreaElement).value })}
        />
      )}
    </Field>
  );
  return (
    <>
      {area('Client certificate (PEM)', 'client_cert')}
      <SecretInput
        label="Client key (PEM)"
        multiline
        value={certs.client_key}
        onInput={(v) => onChange({ ...certs, client_key: v })}
        hint="The gateway's private key; kept hidden until you reveal it."
      />
      {area('CA certificate (PEM)', 'ca_cert')}
    </>
  );
}

const NO_CERTS: Certs = { client_cert: '', client_key: '', ca_cert: '' };

/** A bootstrap config made by hand: for a new thing, or for one of yours. */
export function NewConfigDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (config: { id: string; label: string }) => void;
}) {
  const [thingMode, setThingMode] = useState<'new' | 'existing'>('new');
  const [thingId, setThingId] = useState('');
  const [name, setName] = useState('');
  const [externalId, setExternalId] = useState('');
  const [externalKey, setExternalKey] = useState('');
  const [channels, setChannels] = useState<ChosenChannel[]>([]);
  const [content, setContent] = useState('');
  const [certs, setCerts] = useState<Certs>(NO_CERTS);
  const things = useLoad(async (signal) => (await api(signal).things.list({ limit: 100 })).things, []);
  const thingsList = useId();
  const invalid = jsonOrEmpty(content) || pemProblem(certs);
  const create = useAction(async () => {
    if (invalid) throw new Error(invalid);
    if (thingMode === 'existing' && !thingId.trim())
      throw new Error('Choose the thing, or create a new one.');
    const id = await api()
      .bootstrap.create({
        thing_id: thingMode === 'existing' ? thingId.trim() : undefined,
        external_id: externalId.trim(),
        external_key: externalKey,
        name: name.trim() || undefined,
        content: content.trim() ? JSON.stringify(JSON.parse(content)) : undefined,
        channels: channels.map((c) => c.id),
        client_cert: certs.client_cert.trim() ? certs.client_cert : undefined,
        client_key: certs.client_key.trim() ? certs.client_key : undefined,
        ca_cert: certs.ca_cert.trim() ? certs.ca_cert : undefined,
      })
      .catch(configProblem);
    onCreated({ id, label: name.trim() || externalId.trim() });
  });
  return (
    <Dialog title="New bootstrap config" onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.run();
        }}
      >
        <p class="muted small-text">
          For a gateway you set up yourself. The config starts inactive: activate it when the gateway may
          connect.
        </p>
        <fieldset class="segmented-field">
          <legend>Thing of the gateway</legend>
          <label>
            <input
              type="radio"
              name="thing-mode"
              checked={thingMode === 'new'}
              onChange={() => setThingMode('new')}
            />{' '}
            Create a new thing for it
          </label>
          <label>
            <input
              type="radio"
              name="thing-mode"
              checked={thingMode === 'existing'}
              onChange={() => setThingMode('existing')}
            />{' '}
            Use one of my things
          </label>
        </fieldset>
        {thingMode === 'existing' ? (
          <Field
            label="Thing id"
            hint="Type a name to pick from your things, or paste the id from the thing's page."
          >
            {(id, hint) => (
              <>
                <input
                  id={id}
                  list={thingsList}
                  required
                  spellcheck={false}
                  aria-describedby={hint}
                  value={thingId}
                  onInput={(e) => setThingId((e.target as HTMLInputElement).value)}
                />
                <datalist id={thingsList}>
                  {(things.data ?? []).map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name || 'unnamed thing'}
                    </option>
                  ))}
                </datalist>
              </>
            )}
          </Field>
        ) : null}
        <Field label="Name (optional)">
          {(id) => (
            <input id={id} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          )}
        </Field>
        <Field
          label="External id"
          hint="What the gateway calls itself, often its MAC address or serial number."
        >
          {(id, hint) => (
            <input
              id={id}
              required
              spellcheck={false}
              aria-describedby={hint}
              value={externalId}
              onInput={(e) => setExternalId((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <SecretInput
          label="External key"
          required
          value={externalKey}
          onInput={setExternalKey}
          generate={randomKey}
          hint="The gateway's password for fetching its config. Put the same key on the gateway."
        />
        <ChannelPicker chosen={channels} onChange={setChannels} />
        <JsonEditor
          label="Content (optional)"
          value={content}
          onInput={setContent}
          validate={jsonOrEmpty}
          rows={6}
          hint="Settings the gateway receives with its config, as JSON."
        />
        <details class="more">
          <summary>Certificates (optional)</summary>
          <CertFields certs={certs} onChange={setCerts} />
        </details>
        <ErrorText error={create.error} prefix="The config is not created" />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create config'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Replaces the config's channels; an active config's thing is connected and disconnected to match. */
export function ChannelsDialog({
  config,
  onClose,
  onSaved,
}: {
  config: Config;
  onClose: () => void;
  onSaved: () => void;
}) {
  const label = config.name || config.external_id;
  const loaded = useLoad((signal) => api(signal).bootstrap.get(config.mainflux_id), [config.mainflux_id]);
  const [chosen, setChosen] = useState<ChosenChannel[] | null>(null);
  const current: ChosenChannel[] =
    chosen ?? (loaded.data?.mainflux_channels ?? []).map((c) => ({ id: c.id, name: c.name }));
  const save = useAction(async () => {
    await api()
      .bootstrap.setChannels(
        config.mainflux_id,
        current.map((c) => c.id),
      )
      .catch(configProblem);
    onSaved();
  });
  return (
    <Dialog title={`Channels of ${label}`} onClose={onClose} wide>
      <ErrorText error={loaded.error} prefix="Could not load the config" />
      {loaded.loading ? <Busy label="Loading…" /> : null}
      {loaded.data ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.run();
          }}
        >
          {loaded.data.state === 1 ? (
            <Notice kind="warn">
              This config is active: saving connects its thing to the added channels and disconnects it from
              the removed ones at once.
            </Notice>
          ) : null}
          <ChannelPicker chosen={current} onChange={setChosen} />
          <ErrorText error={save.error} prefix="The channels are not changed" />
          <div class="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={save.busy}>
              {save.busy ? 'Saving…' : 'Save channels'}
            </button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}

/** Replaces the three certificates the gateway receives. */
export function CertsDialog({
  config,
  onClose,
  onSaved,
}: {
  config: Config;
  onClose: () => void;
  onSaved: () => void;
}) {
  const [certs, setCerts] = useState<Certs>(NO_CERTS);
  const problem = pemProblem(certs);
  const save = useAction(async () => {
    if (problem) throw new Error(problem);
    await api().bootstrap.updateCerts(config.mainflux_id, certs).catch(configProblem);
    onSaved();
  });
  return (
    <Dialog title={`Certificates of ${config.name || config.external_id}`} onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.run();
        }}
      >
        <p class="muted small-text">
          For security the stored certificates are never shown. Saving replaces all three; a field left empty
          removes that one.
        </p>
        <CertFields certs={certs} onChange={setCerts} />
        <ErrorText error={save.error} prefix="The certificates are not saved" />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={save.busy}>
            {save.busy ? 'Saving…' : 'Save certificates'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
