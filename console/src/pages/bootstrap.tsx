import type { Config } from '@tethys/sdk';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { navigate } from '../router.ts';
import {
  Busy,
  type Column,
  Confirm,
  CopyButton,
  DataTable,
  Dialog,
  ErrorText,
  errorMessage,
  Field,
  JsonEditor,
  Notice,
  Pager,
  Secret,
  shellQuote,
  useAction,
  useLoad,
} from '../ui.tsx';

function jsonValidator(text: string): string {
  if (text.trim() === '') return '';
  try {
    JSON.parse(text);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

export function BootstrapPage({ query }: { query: URLSearchParams }) {
  const state = {
    offset: Math.max(0, Number.parseInt(query.get('offset') ?? '0', 10) || 0),
    limit: Math.min(100, Math.max(1, Number.parseInt(query.get('limit') ?? '25', 10) || 25)),
    state: query.get('state') === '0' || query.get('state') === '1' ? query.get('state')! : '',
    name: query.get('name') ?? '',
    external_id: query.get('external_id') ?? '',
  };
  const [nameInput, setNameInput] = useState(state.name);
  const [extInput, setExtInput] = useState(state.external_id);
  const [stateInput, setStateInput] = useState(state.state);
  useEffect(() => {
    setNameInput(state.name);
    setExtInput(state.external_id);
    setStateInput(state.state);
  }, [state.name, state.external_id, state.state]);
  const [dialog, setDialog] = useState<null | { type: 'edit' | 'view' | 'delete'; config: Config }>(null);
  const [notice, setNotice] = useState('');
  const [rowError, setRowError] = useState<{ id: string; error: unknown } | null>(null);
  const [toggling, setToggling] = useState('');

  const page = useLoad(
    (signal) =>
      api(signal).bootstrap.list({
        offset: state.offset,
        limit: state.limit,
        state: state.state ? (Number(state.state) as 0 | 1) : undefined,
        name: state.name || undefined,
        external_id: state.external_id || undefined,
      }),
    [state.offset, state.limit, state.state, state.name, state.external_id],
  );
  const go = (patch: Partial<typeof state>) => navigate('/bootstrap', { ...state, ...patch });
  // Provisioning creates configs without a name: they are shown by their thing's name.
  const unnamed = (page.data?.configs ?? []).filter((c) => !c.name).map((c) => c.mainflux_id);
  const thingNames = useLoad(
    async (signal) =>
      new Map(
        await Promise.all(
          unnamed.map((id) =>
            api(signal)
              .things.get(id)
              .then(
                (t) => [id, t.name ?? ''] as const,
                () => [id, ''] as const,
              ),
          ),
        ),
      ),
    [unnamed.join(',')],
  );

  const toggle = async (c: Config) => {
    setRowError(null);
    setNotice('');
    setToggling(c.mainflux_id);
    try {
      const next = c.state === 1 ? 0 : 1;
      await api().bootstrap.setState(c.mainflux_id, next);
      setNotice(
        `${c.name || c.external_id} is now ${next === 1 ? 'active: its thing is connected to the config channels' : 'inactive: its thing is disconnected from the config channels'}.`,
      );
      page.reload();
    } catch (err) {
      setRowError({ id: c.mainflux_id, error: err });
    } finally {
      setToggling('');
    }
  };

  const columns: Column<Config>[] = [
    {
      key: 'name',
      label: 'Name',
      render: (c) =>
        c.name ||
        (thingNames.data?.get(c.mainflux_id) ? (
          <>
            {thingNames.data.get(c.mainflux_id)} <span class="muted small-text">(its thing's name)</span>
          </>
        ) : (
          <em class="muted">unnamed</em>
        )),
    },
    { key: 'external_id', label: 'External id', render: (c) => <code>{c.external_id}</code> },
    {
      key: 'thing',
      label: 'Thing',
      class: 'mono',
      render: (c) => (
        <a href={`#/things/${c.mainflux_id}`}>
          <code class="id">{c.mainflux_id}</code>
        </a>
      ),
    },
    {
      key: 'state',
      label: 'State',
      render: (c) => (
        <>
          <button
            type="button"
            class={`toggle ${c.state === 1 ? 'on' : 'off'}`}
            role="switch"
            aria-checked={c.state === 1}
            disabled={toggling === c.mainflux_id}
            onClick={() => toggle(c)}
          >
            <span class="toggle-knob" aria-hidden="true" />
            {c.state === 1 ? 'active' : 'inactive'}
            <span class="visually-hidden"> — {c.name || c.external_id}</span>
          </button>
          {rowError?.id === c.mainflux_id ? (
            <ErrorText error={rowError.error} prefix="Could not change the state" />
          ) : null}
        </>
      ),
    },
    {
      key: 'actions',
      label: 'Actions',
      class: 'row-actions',
      render: (c) => (
        <>
          <button type="button" class="small" onClick={() => setDialog({ type: 'edit', config: c })}>
            Edit<span class="visually-hidden"> {c.external_id}</span>
          </button>
          <button type="button" class="small" onClick={() => setDialog({ type: 'view', config: c })}>
            Gateway's view<span class="visually-hidden"> of {c.external_id}</span>
          </button>
          <button type="button" class="small danger" onClick={() => setDialog({ type: 'delete', config: c })}>
            Delete<span class="visually-hidden"> {c.external_id}</span>
          </button>
        </>
      ),
    },
  ];

  return (
    <section>
      <h1>Bootstrap configs</h1>
      <p class="muted small-text">
        What each gateway receives when it bootstraps. Active (whitelisted) configs have their thing connected
        to the config's channels; making a config inactive disconnects them.
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form is the widely supported form of <search> */}
      <form
        class="search search-4"
        role="search"
        aria-label="Filter bootstrap configs"
        onSubmit={(e) => {
          e.preventDefault();
          go({ name: nameInput.trim(), external_id: extInput.trim(), state: stateInput, offset: 0 });
        }}
      >
        <Field label="Name contains">
          {(id) => (
            <input
              id={id}
              type="search"
              value={nameInput}
              onInput={(e) => setNameInput((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="External id (exact)">
          {(id) => (
            <input
              id={id}
              type="search"
              value={extInput}
              onInput={(e) => setExtInput((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="State">
          {(id) => (
            <select
              id={id}
              value={stateInput}
              onChange={(e) => setStateInput((e.target as HTMLSelectElement).value)}
            >
              <option value="">any</option>
              <option value="1">active</option>
              <option value="0">inactive</option>
            </select>
          )}
        </Field>
        <div class="search-buttons">
          <button type="submit">Filter</button>
          {state.name || state.external_id || state.state ? (
            <button type="button" class="link" onClick={() => navigate('/bootstrap')}>
              Clear
            </button>
          ) : null}
        </div>
      </form>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <ErrorText error={page.error} prefix="Could not load the configs" />
      {page.loading && !page.data ? <Busy label="Loading configs…" /> : null}
      {page.data ? (
        <>
          <DataTable<Config>
            caption="Bootstrap configs"
            columns={columns}
            rows={page.data.configs}
            rowKey={(c) => c.mainflux_id}
            busy={page.loading}
            onOpen={(c) => setDialog({ type: 'view', config: c })}
            empty="No bootstrap config matches. Provisioning a gateway creates them."
          />
          <Pager
            label="Bootstrap configs"
            total={page.data.total}
            offset={state.offset}
            limit={state.limit}
            onChange={(offset, limit) => go({ offset, limit })}
          />
        </>
      ) : null}
      {dialog?.type === 'edit' ? (
        <EditConfig
          id={dialog.config.mainflux_id}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            setNotice(`Saved ${dialog.config.name || dialog.config.external_id}.`);
            page.reload();
          }}
        />
      ) : null}
      {dialog?.type === 'view' ? (
        <GatewayView config={dialog.config} onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.type === 'delete' ? (
        <Confirm
          title="Delete bootstrap config"
          message={
            <p>
              Delete the config of <strong>{dialog.config.external_id}</strong>? The gateway can no longer
              bootstrap; its thing and connections stay.
            </p>
          }
          confirmLabel="Delete config"
          onConfirm={() => api().bootstrap.remove(dialog.config.mainflux_id)}
          onClose={() => {
            setDialog(null);
            page.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function EditConfig({ id, onClose, onSaved }: { id: string; onClose: () => void; onSaved: () => void }) {
  // The list leaves out nothing needed here, but the full view is fresher.
  const config = useLoad((signal) => api(signal).bootstrap.get(id), [id]);
  const [name, setName] = useState<string | null>(null);
  const [content, setContent] = useState<string | null>(null);
  const nameValue = name ?? config.data?.name ?? '';
  const contentValue = content ?? prettyContent(config.data?.content);
  const invalid = jsonValidator(contentValue);
  const save = useAction(async () => {
    if (invalid) throw new Error(`The content is not valid JSON: ${invalid}`);
    // The API replaces both name and content.
    const compact = contentValue.trim() ? JSON.stringify(JSON.parse(contentValue)) : '';
    await api().bootstrap.update(id, { name: nameValue, content: compact });
    onSaved();
  });
  return (
    <Dialog title="Edit bootstrap config" onClose={onClose} wide>
      <ErrorText error={config.error} prefix="Could not load the config" />
      {config.loading ? <Busy label="Loading…" /> : null}
      {config.data ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!invalid) save.run();
          }}
        >
          <Field label="Name">
            {(fid) => (
              <input
                id={fid}
                value={nameValue}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <JsonEditor
            label="Content (JSON)"
            value={contentValue}
            onInput={setContent}
            validate={jsonValidator}
            rows={14}
            hint="What the gateway's software reads at start-up, usually a JSON object; leave it empty for none."
          />
          <ErrorText error={save.error} />
          <div class="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={save.busy || Boolean(invalid)}>
              {save.busy ? 'Saving…' : 'Save'}
            </button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}

/** A config's channels, linked. */
export function ChannelChips({ channels }: { channels?: { id: string; name?: string }[] | null }) {
  if (!channels?.length) return <span class="muted">none</span>;
  return (
    <>
      {channels.map((c) => (
        <a key={c.id} class="chip" href={`#/channels/${c.id}`}>
          {c.name || c.id}
        </a>
      ))}
    </>
  );
}

/** A config's content, pretty, or "no content". */
export function ConfigContent({ content }: { content?: string | null }) {
  const text = prettyContent(content);
  return text ? <pre class="json">{text}</pre> : <span class="muted">no content</span>;
}

/** A config's content for reading and editing: pretty JSON, or '' for none (provisioning stores `null`). */
export function prettyContent(content?: string | null): string {
  if (!content) return '';
  try {
    const value = JSON.parse(content);
    return value === null ? '' : JSON.stringify(value, null, 2);
  } catch {
    return content;
  }
}

function GatewayView({ config, onClose }: { config: Config; onClose: () => void }) {
  const view = useLoad(
    async (signal) => {
      if (!config.external_key)
        throw new Error('This config has no external key, so no gateway can fetch it.');
      return api(signal).bootstrap.fetch(config.external_id, config.external_key);
    },
    [config.external_id],
  );
  const command = `curl -s ${shellQuote(`${location.origin}/things/bootstrap/${encodeURIComponent(config.external_id)}`)} -H ${shellQuote(`Authorization: ${config.external_key ?? ''}`)}`;
  return (
    <Dialog title={`What ${config.external_id} receives`} onClose={onClose} wide>
      <p class="muted small-text">
        This is what the gateway gets when it asks for its configuration with its external id and key, fetched
        just now as the gateway would. It gets it whether the config is active or not.
      </p>
      {view.loading ? <Busy label="Fetching as the gateway…" /> : null}
      {view.error ? (
        <p class="error" role="alert">
          The gateway would be refused: {errorMessage(view.error)}
        </p>
      ) : null}
      {view.data ? (
        <dl class="facts">
          <dt>Its thing</dt>
          <dd>
            <a href={`#/things/${view.data.mainflux_id}`}>
              <code class="id">{view.data.mainflux_id}</code>
            </a>
          </dd>
          <dt>Thing key</dt>
          <dd>
            <Secret value={view.data.mainflux_key} label="Thing key" />
          </dd>
          <dt>Channels</dt>
          <dd>
            <ChannelChips channels={view.data.mainflux_channels} />
          </dd>
          <dt>Certificates</dt>
          <dd>
            {view.data.client_cert
              ? `a client certificate${view.data.client_key ? ' with its private key' : ''}${view.data.ca_cert ? ' and the CA certificate' : ''}`
              : 'none'}
          </dd>
          <dt>Content</dt>
          <dd>
            <ConfigContent content={view.data.content} />
          </dd>
        </dl>
      ) : null}
      <p>
        To check it from the gateway's network: <CopyButton text={command} label="Copy the curl command" />
      </p>
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
