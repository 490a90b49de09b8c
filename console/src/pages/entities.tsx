import type { Channel, Thing } from '@tethys/sdk';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type EntityKind } from '../api.ts';
import { MetadataView } from '../metadata.tsx';
import { href, navigate } from '../router.ts';
import { Busy, type Column, Confirm, DataTable, ErrorText, Field, Notice, Pager, useLoad } from '../ui.tsx';
import { EntityForm, parseMetadataFilter, SINGULAR, TITLE } from './forms.tsx';
import { ImportDialog } from './import.tsx';

type Entity = Thing | Channel;

/** Reads the list state from the URL (#/things?offset=…): back, forward and links keep it. */
function listState(query: URLSearchParams) {
  const num = (k: string, d: number) => {
    const n = Number.parseInt(query.get(k) ?? '', 10);
    return Number.isFinite(n) && n >= 0 ? n : d;
  };
  const order = query.get('order') ?? '';
  const dir = query.get('dir') ?? '';
  return {
    offset: num('offset', 0),
    limit: Math.min(100, Math.max(1, num('limit', 25))),
    order: (order === 'name' || order === 'id' ? order : '') as '' | 'name' | 'id',
    dir: (dir === 'asc' || dir === 'desc' ? dir : '') as '' | 'asc' | 'desc',
    name: query.get('name') ?? '',
    meta: query.get('meta') ?? '',
  };
}

export function EntityList({ kind, query }: { kind: EntityKind; query: URLSearchParams }) {
  const state = listState(query);
  const filter = parseMetadataFilter(state.meta);
  const [nameInput, setNameInput] = useState(state.name);
  const [metaInput, setMetaInput] = useState(state.meta);
  useEffect(() => {
    setNameInput(state.name);
    setMetaInput(state.meta);
  }, [state.name, state.meta]);
  const [dialog, setDialog] = useState<
    | null
    | { type: 'create' }
    | { type: 'import' }
    | { type: 'edit'; entity: Entity }
    | { type: 'delete'; entity: Entity }
  >(null);
  const [notice, setNotice] = useState<ComponentChildren>(null);
  const queryText = query.toString();
  // A notice belongs to the view it was given in.
  useEffect(() => setNotice(null), [queryText]);

  const page = useLoad(
    async (signal) => {
      if (filter.error) return null;
      return api(signal)[kind].list({
        offset: state.offset,
        limit: state.limit,
        order: state.order || undefined,
        dir: state.dir || undefined,
        name: state.name || undefined,
        metadata: filter.value && Object.keys(filter.value).length ? filter.value : undefined,
      });
    },
    [kind, state.offset, state.limit, state.order, state.dir, state.name, state.meta],
  );

  const go = (patch: Partial<typeof state>) => navigate(`/${kind}`, { ...state, ...patch });
  const what = SINGULAR[kind];
  const items: Entity[] = page.data ? ('things' in page.data ? page.data.things : page.data.channels) : [];
  const metaProblem = parseMetadataFilter(metaInput).error;

  const columns: Column<Entity>[] = [
    {
      key: 'name',
      label: 'Name',
      sortable: true,
      render: (e) => <a href={`#/${kind}/${e.id}`}>{e.name || <em class="muted">unnamed</em>}</a>,
    },
    { key: 'id', label: 'ID', sortable: true, class: 'mono', render: (e) => <code class="id">{e.id}</code> },
    { key: 'metadata', label: 'Metadata', render: (e) => <MetadataView metadata={e.metadata} /> },
    {
      key: 'actions',
      label: 'Actions',
      class: 'row-actions',
      render: (e) => (
        <>
          <button type="button" class="small" onClick={() => setDialog({ type: 'edit', entity: e })}>
            Edit<span class="visually-hidden"> {e.name || e.id}</span>
          </button>
          <button type="button" class="small danger" onClick={() => setDialog({ type: 'delete', entity: e })}>
            Delete<span class="visually-hidden"> {e.name || e.id}</span>
          </button>
        </>
      ),
    },
  ];

  return (
    <section>
      <div class="page-head">
        <h1>{TITLE[kind]}</h1>
        <div class="actions">
          <button type="button" class="primary" onClick={() => setDialog({ type: 'create' })}>
            New {what}
          </button>
          <button type="button" onClick={() => setDialog({ type: 'import' })}>
            Import from file…
          </button>
        </div>
      </div>

      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form is the widely supported form of <search> */}
      <form
        class="search"
        role="search"
        aria-label={`Search ${kind}`}
        onSubmit={(e) => {
          e.preventDefault();
          if (!metaProblem) go({ name: nameInput.trim(), meta: metaInput.trim(), offset: 0 });
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
        <Field
          label="Metadata"
          hint={
            <>
              <code>key=value</code> pairs separated by commas (values are text), <code>key:=5</code> for a
              JSON value, or a JSON object.
            </>
          }
        >
          {(id, hint) => (
            <input
              id={id}
              type="search"
              placeholder="type=gateway, room=lab"
              value={metaInput}
              aria-invalid={metaProblem ? 'true' : 'false'}
              aria-describedby={hint}
              onInput={(e) => setMetaInput((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <div class="search-buttons">
          <button type="submit" disabled={Boolean(metaProblem)}>
            Search
          </button>
          {state.name || state.meta ? (
            <button type="button" class="link" onClick={() => navigate(`/${kind}`, { limit: state.limit })}>
              Clear
            </button>
          ) : null}
        </div>
        {metaProblem ? (
          <p class="error" role="alert">
            Metadata filter: {metaProblem}
          </p>
        ) : null}
      </form>
      {filter.error && !metaProblem ? (
        <p class="error" role="alert">
          Metadata filter: {filter.error}
        </p>
      ) : null}

      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <ErrorText error={page.error} prefix={`Could not load the ${kind}`} />
      {page.loading && !page.data ? <Busy label={`Loading ${kind}…`} /> : null}
      {page.data ? (
        <>
          <DataTable<Entity>
            caption={TITLE[kind]}
            columns={columns}
            rows={items}
            rowKey={(e) => e.id}
            busy={page.loading}
            sort={{ order: state.order, dir: state.dir || (state.order ? 'desc' : '') }}
            onSort={(order) => {
              const dir = state.order === order && state.dir === 'asc' ? 'desc' : 'asc';
              go({ order: order as 'name' | 'id', dir, offset: 0 });
            }}
            onOpen={(e) => navigate(`/${kind}/${e.id}`)}
            empty={state.name || state.meta ? `No ${what} matches the search.` : `No ${kind} yet.`}
          />
          <Pager
            label={TITLE[kind]}
            total={page.data.total}
            offset={state.offset}
            limit={state.limit}
            onChange={(offset, limit) => go({ offset, limit })}
          />
        </>
      ) : null}

      {dialog?.type === 'create' ? (
        <EntityForm
          kind={kind}
          onClose={() => setDialog(null)}
          onSaved={(id, name) => {
            setDialog(null);
            setNotice(
              <>
                Created the {what} <a href={href(`/${kind}/${id}`)}>{name || id}</a>.
              </>,
            );
            page.reload();
          }}
        />
      ) : null}
      {dialog?.type === 'edit' ? (
        <EntityForm
          kind={kind}
          entity={dialog.entity}
          onClose={() => setDialog(null)}
          onSaved={() => {
            setDialog(null);
            setNotice(`Saved ${dialog.entity.name || dialog.entity.id}.`);
            page.reload();
          }}
        />
      ) : null}
      {dialog?.type === 'delete' ? (
        <Confirm
          title={`Delete ${what}`}
          message={
            <p>
              Delete the {what} <strong>{dialog.entity.name || dialog.entity.id}</strong>? Its connections go
              with it
              {kind === 'things' ? '; devices using its key lose access at once' : ''}. This cannot be undone.
            </p>
          }
          confirmLabel={`Delete ${what}`}
          onConfirm={() => api()[kind].remove(dialog.entity.id)}
          onClose={() => {
            setDialog(null);
            page.reload();
          }}
        />
      ) : null}
      {dialog?.type === 'import' ? (
        <ImportDialog kind={kind} onClose={() => setDialog(null)} onDone={() => page.reload()} />
      ) : null}
    </section>
  );
}
