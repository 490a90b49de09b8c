import { type Layout, TethysError } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { LineEditor, type LineProblem, lineProblem } from '../editor.tsx';
import { href, navigate, pageOf } from '../router.ts';
import {
  type Column,
  Confirm,
  ErrorText,
  Field,
  Loading,
  Notice,
  PagedTable,
  useAction,
  useLoad,
} from '../ui.tsx';

/**
 * Named provision layouts: what a gateway is made of when it is provisioned or enrolls
 * itself. `default` is the server's own and read-only; the others are the user's.
 */

const DEFAULT = 'default';
/** The new-layout page: no layout name starts with '_'. */
export const NEW_PATH = '/layouts/_new';
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const READ_ONLY =
  "The default layout is the server's own, read from its configuration when it starts, so it cannot be changed or deleted here; copy it into a new layout to change it.";

/** What a new layout starts from: the shape of a layout, with one parameter. */
const STARTER = `# A parameter: its value replaces {{site}} below.
[parameters.site]
type = "string"
required = true
pattern = "^[a-z0-9-]{1,32}$"

# The gateway: the thing that fetches the bootstrap config.
[[things]]
name = "{{site}}-gateway"
[things.metadata]
external_id = "x"
site = "{{site}}"

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{site}}-data"
metadata = { type = "data" }
`;

/** The server's 400 for a layout, located at its line when it names one. */
function problemOf(error: unknown): LineProblem | null {
  return error instanceof TethysError && error.status === 400 ? lineProblem(error.message) : null;
}

function ReadOnlyBadge() {
  return <span class="badge off">read-only</span>;
}

export function LayoutsPage({ query }: { query: URLSearchParams }) {
  const state = pageOf(query, 25);
  const [removing, setRemoving] = useState<Layout | null>(null);
  const [notice, setNotice] = useState('');
  const page = useLoad((signal) => api(signal).layouts.list(state), [state.offset, state.limit]);
  const columns: Column<Layout>[] = [
    {
      key: 'name',
      label: 'Name',
      render: (l) => (
        <>
          <a href={href(`/layouts/${l.name}`)}>{l.name}</a> {l.name === DEFAULT ? <ReadOnlyBadge /> : null}
        </>
      ),
    },
    {
      key: 'parameters',
      label: 'Parameters',
      render: (l) =>
        l.parameters.length ? (
          l.parameters.map((p) => (
            <code key={p.name} class="chip">
              {p.name}
            </code>
          ))
        ) : (
          <span class="muted">none</span>
        ),
    },
    {
      key: 'actions',
      label: 'Actions',
      class: 'row-actions',
      render: (l) =>
        l.name === DEFAULT ? (
          <button type="button" class="small" onClick={() => navigate(NEW_PATH, { from: l.name })}>
            Copy<span class="visually-hidden"> {l.name}</span>
          </button>
        ) : (
          <>
            <button type="button" class="small" onClick={() => navigate(`/layouts/${l.name}`, { edit: 1 })}>
              Edit<span class="visually-hidden"> {l.name}</span>
            </button>
            <button type="button" class="small danger" onClick={() => setRemoving(l)}>
              Delete<span class="visually-hidden"> {l.name}</span>
            </button>
          </>
        ),
    },
  ];
  return (
    <section>
      <div class="page-head">
        <h1>Layouts</h1>
        <div class="actions">
          <button type="button" class="primary" onClick={() => navigate(NEW_PATH)}>
            New layout
          </button>
        </div>
      </div>
      <p class="muted">
        A layout says what a gateway is made of when it is provisioned or enrolls itself: its things,
        channels, bootstrap config and certificate. Parameters such as <code>{'{{site}}'}</code> let one
        layout serve many sites. The <strong>default</strong> layout is the server's own and read-only.
      </p>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <PagedTable
        load={page}
        what="layouts"
        rows={(p) => p.layouts}
        page={state}
        onPage={(offset, limit) => navigate('/layouts', { offset, limit })}
        caption="Layouts"
        columns={columns}
        rowKey={(l) => l.name}
        onOpen={(l) => navigate(`/layouts/${l.name}`)}
      />
      {removing ? (
        <RemoveLayout
          name={removing.name}
          onClose={() => setRemoving(null)}
          onRemoved={() => {
            setNotice(`Deleted the layout ${removing.name}.`);
            page.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function RemoveLayout({
  name,
  onClose,
  onRemoved,
}: {
  name: string;
  onClose: () => void;
  onRemoved: () => void;
}) {
  return (
    <Confirm
      title="Delete layout"
      message={
        <p>
          Delete the layout <strong>{name}</strong>? Gateways already made from it stay as they are;
          enrollment groups that use it can no longer enroll devices.
        </p>
      }
      confirmLabel="Delete layout"
      onConfirm={async () => {
        await api().layouts.remove(name);
        onRemoved();
      }}
      onClose={onClose}
    />
  );
}

/** A new layout, empty but for the starter, or a copy of `from`. */
export function NewLayoutPage({ query }: { query: URLSearchParams }) {
  const from = query.get('from') ?? '';
  const source = useLoad(async (signal) => (from ? api(signal).layouts.get(from) : null), [from]);
  const [name, setName] = useState('');
  const [toml, setToml] = useState<string | null>(null);
  const text = toml ?? source.data?.toml ?? (from ? '' : STARTER);
  const nameProblem =
    name && !NAME.test(name)
      ? "1 to 64 of a–z, 0–9, '.', '_' and '-', starting with a letter or digit."
      : name === DEFAULT
        ? 'default is the server’s layout; choose another name.'
        : '';
  const create = useAction(async () => {
    const layout = await api().layouts.create(name, text);
    navigate(`/layouts/${layout.name}`, { created: 1 });
  });
  const problem = problemOf(create.error);
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/layouts">Layouts</a> <span aria-hidden="true">›</span> <span aria-current="page">New</span>
      </nav>
      <h1>New layout</h1>
      {from ? <p class="muted">A copy of {from}: change it and give it a name.</p> : null}
      <ErrorText error={source.error} prefix={`Could not load the layout ${from}`} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!nameProblem) create.run();
        }}
      >
        <div class="form-narrow">
          <Field
            label="Name"
            hint="Lower-case letters, digits, '.', '_' and '-', e.g. sensor-v2. Used to pick the layout when provisioning."
          >
            {(id, hint) => (
              <input
                id={id}
                required
                maxLength={64}
                autocomplete="off"
                value={name}
                aria-invalid={nameProblem ? 'true' : 'false'}
                aria-describedby={hint}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          {nameProblem ? <p class="error">Name: {nameProblem}</p> : null}
        </div>
        <LineEditor
          label="Layout (TOML)"
          value={text}
          onInput={setToml}
          problem={problem}
          hint="The same format as the server's provision configuration file, without its [server] section."
        />
        {create.error && !problem ? <ErrorText error={create.error} /> : null}
        <div class="actions left">
          <button type="submit" class="primary" disabled={create.busy || Boolean(nameProblem)}>
            {create.busy ? 'Creating…' : 'Create layout'}
          </button>
          <a href="#/layouts">Cancel</a>
        </div>
      </form>
    </section>
  );
}

export function LayoutPage({ name, query }: { name: string; query: URLSearchParams }) {
  const layout = useLoad((signal) => api(signal).layouts.get(name), [name]);
  return (
    <Loading load={layout} what="layout" back="#/layouts">
      {(l) => (
        <LayoutView
          layout={l}
          created={query.has('created')}
          startEditing={query.has('edit')}
          onSaved={layout.setData}
        />
      )}
    </Loading>
  );
}

function LayoutView({
  layout,
  created,
  startEditing,
  onSaved,
}: {
  layout: Layout;
  created: boolean;
  startEditing: boolean;
  onSaved: (l: Layout) => void;
}) {
  const readOnly = layout.name === DEFAULT;
  const [editing, setEditing] = useState(startEditing && !readOnly);
  const [text, setText] = useState(layout.toml);
  const [removing, setRemoving] = useState(false);
  const [notice, setNotice] = useState(created ? `Created the layout ${layout.name}.` : '');
  const save = useAction(async () => {
    const saved = await api().layouts.update(layout.name, text);
    onSaved(saved);
    setEditing(false);
    setNotice('Saved. Gateways provisioned from now on use the new layout.');
  });
  const problem = problemOf(save.error);
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/layouts">Layouts</a> <span aria-hidden="true">›</span>{' '}
        <span aria-current="page">{layout.name}</span>
      </nav>
      <div class="page-head">
        <h1>
          {layout.name} {readOnly ? <ReadOnlyBadge /> : null}
        </h1>
        <div class="actions">
          {!readOnly && !editing ? (
            <button
              type="button"
              onClick={() => {
                setText(layout.toml);
                setNotice('');
                setEditing(true);
              }}
            >
              Edit
            </button>
          ) : null}
          <button type="button" onClick={() => navigate(NEW_PATH, { from: layout.name })}>
            Copy into a new layout
          </button>
          {!readOnly ? (
            <button type="button" class="danger" onClick={() => setRemoving(true)}>
              Delete
            </button>
          ) : null}
        </div>
      </div>
      {readOnly ? <Notice>{READ_ONLY}</Notice> : null}
      {notice ? <Notice kind="ok">{notice}</Notice> : null}

      <section class="panel" aria-labelledby="params-title">
        <h2 id="params-title">Parameters</h2>
        {layout.parameters.length === 0 ? (
          <p class="muted">This layout declares no parameters.</p>
        ) : (
          <div class="table-wrap">
            <table class="data">
              <caption class="visually-hidden">Parameters of {layout.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Required</th>
                  <th scope="col">Default</th>
                  <th scope="col">Pattern</th>
                  <th scope="col">Set by the device</th>
                </tr>
              </thead>
              <tbody>
                {layout.parameters.map((p) => (
                  <tr key={p.name}>
                    <td data-label="Name">
                      <code>{p.name}</code>
                    </td>
                    <td data-label="Type">{p.type}</td>
                    <td data-label="Required">{p.required ? 'yes' : 'no'}</td>
                    <td data-label="Default">
                      {p.default === null ? <span class="muted">—</span> : <code>{String(p.default)}</code>}
                    </td>
                    <td data-label="Pattern">
                      {p.pattern ? <code>{p.pattern}</code> : <span class="muted">—</span>}
                    </td>
                    <td data-label="Set by the device">{p.device ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="panel" aria-labelledby="toml-title">
        <h2 id="toml-title">{editing ? 'Edit the layout' : 'Layout'}</h2>
        {editing ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              save.run();
            }}
          >
            <LineEditor label="Layout (TOML)" value={text} onInput={setText} problem={problem} />
            {save.error && !problem ? <ErrorText error={save.error} /> : null}
            <div class="actions left">
              <button type="submit" class="primary" disabled={save.busy}>
                {save.busy ? 'Saving…' : 'Save'}
              </button>
              <button
                type="button"
                onClick={() => {
                  save.setError(null);
                  setEditing(false);
                }}
              >
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <LineEditor label="Layout (TOML, read-only)" value={layout.toml} readOnly />
        )}
      </section>
      {removing ? (
        <RemoveLayout
          name={layout.name}
          onClose={() => setRemoving(false)}
          onRemoved={() => navigate('/layouts')}
        />
      ) : null}
    </section>
  );
}
