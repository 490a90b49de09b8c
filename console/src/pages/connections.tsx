import { type Channel, type ConnectionQuery, TethysError, type Thing } from '@tethys/sdk';
import { useState } from 'preact/hooks';
import { api, type EntityKind } from '../api.ts';
import { MetadataView } from '../metadata.tsx';
import { navigate } from '../router.ts';
import {
  Busy,
  type Column,
  DataTable,
  Dialog,
  ErrorText,
  errorMessage,
  Field,
  Notice,
  Pager,
  ProgressBar,
  useAction,
  useLoad,
} from '../ui.tsx';

type Entity = Thing | Channel;

const OTHER: Record<EntityKind, EntityKind> = { things: 'channels', channels: 'things' };

/** One page, by name, of the other side of a thing's or a channel's connections (`connected: false`: the others). */
async function otherSide(
  kind: EntityKind,
  id: string,
  query: ConnectionQuery,
  signal: AbortSignal,
): Promise<{ total: number; items: Entity[] }> {
  const q = { ...query, order: 'name', dir: 'asc' } as const;
  if (kind === 'things') {
    const page = await api(signal).things.channels(id, q);
    return { total: page.total, items: page.channels };
  }
  const page = await api(signal).channels.things(id, q);
  return { total: page.total, items: page.things };
}

/**
 * The other side of a thing's or a channel's connections: connected ones (paged, select
 * many to disconnect) and a dialog listing the not connected ones (?disconnected=true,
 * paged, select many to connect in one POST /connect).
 */
export function ConnectionsPanel({
  kind,
  id,
  onChange,
}: {
  kind: EntityKind;
  id: string;
  onChange?: () => void;
}) {
  const other = OTHER[kind];
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(10);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [connecting, setConnecting] = useState(false);
  const [notice, setNotice] = useState('');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const list = useLoad((signal) => otherSide(kind, id, { offset, limit }, signal), [kind, id, offset, limit]);
  const items = list.data?.items ?? [];
  const pair = (otherId: string) =>
    kind === 'things' ? { channel: otherId, thing: id } : { channel: id, thing: otherId };

  // The API has no bulk disconnect in 0.12: one DELETE a pair, with progress.
  const disconnect = useAction(async () => {
    const ids = [...selected];
    setProgress({ done: 0, total: ids.length });
    const failed: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const p = pair(ids[i]!);
      try {
        await api().disconnect(p.channel, p.thing);
      } catch (err) {
        failed.push(`${ids[i]}: ${errorMessage(err)}`);
      }
      setProgress({ done: i + 1, total: ids.length });
    }
    setSelected(new Set());
    setProgress(null);
    list.reload();
    onChange?.();
    if (failed.length)
      throw new Error(`${failed.length} of ${ids.length} could not be disconnected: ${failed.join('; ')}`);
    setNotice(`Disconnected ${ids.length} ${ids.length === 1 ? other.slice(0, -1) : other}.`);
  });

  const columns: Column<Entity>[] = [
    {
      key: 'name',
      label: 'Name',
      render: (e) => <a href={`#/${other}/${e.id}`}>{e.name || <em class="muted">unnamed</em>}</a>,
    },
    { key: 'id', label: 'ID', class: 'mono', render: (e) => <code class="id">{e.id}</code> },
    { key: 'metadata', label: 'Metadata', render: (e) => <MetadataView metadata={e.metadata} /> },
  ];

  return (
    <section class="panel" aria-labelledby={`conn-${id}`}>
      <div class="page-head">
        <h2 id={`conn-${id}`}>Connected {other}</h2>
        <div class="actions">
          <button type="button" onClick={() => setConnecting(true)}>
            Connect {other}…
          </button>
          <button
            type="button"
            class="danger"
            disabled={selected.size === 0 || disconnect.busy}
            onClick={() => {
              setNotice('');
              disconnect.run();
            }}
          >
            Disconnect selected ({selected.size})
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {progress ? <ProgressBar label="Disconnecting…" value={progress.done} max={progress.total} /> : null}
      <ErrorText error={disconnect.error} />
      <ErrorText error={list.error} prefix={`Could not load the connected ${other}`} />
      {list.loading && !list.data ? <Busy label={`Loading connected ${other}…`} /> : null}
      {list.data ? (
        <>
          <DataTable<Entity>
            caption={`Connected ${other}`}
            columns={columns}
            rows={items}
            rowKey={(e) => e.id}
            busy={list.loading}
            selected={selected}
            onToggle={(x) => {
              const s = new Set(selected);
              if (s.has(x)) s.delete(x);
              else s.add(x);
              setSelected(s);
            }}
            onToggleAll={(ids, on) => {
              const s = new Set(selected);
              for (const x of ids) on ? s.add(x) : s.delete(x);
              setSelected(s);
            }}
            onOpen={(e) => navigate(`/${other}/${e.id}`)}
            empty={`Not connected to any ${other.slice(0, -1)}.`}
          />
          <Pager
            label={`Connected ${other}`}
            total={list.data.total}
            offset={offset}
            limit={limit}
            onChange={(o, l) => {
              setOffset(o);
              setLimit(l);
            }}
          />
        </>
      ) : null}
      {connecting ? (
        <ConnectDialog
          kind={kind}
          id={id}
          onClose={() => setConnecting(false)}
          onConnected={(n) => {
            setConnecting(false);
            setNotice(`Connected ${n} ${n === 1 ? other.slice(0, -1) : other}.`);
            list.reload();
            onChange?.();
          }}
        />
      ) : null}
    </section>
  );
}

function ConnectDialog({
  kind,
  id,
  onClose,
  onConnected,
}: {
  kind: EntityKind;
  id: string;
  onClose: () => void;
  onConnected: (count: number) => void;
}) {
  const other = OTHER[kind];
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(10);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [byId, setById] = useState('');
  const list = useLoad(
    (signal) => otherSide(kind, id, { offset, limit, connected: false }, signal),
    [kind, id, offset, limit],
  );
  const items = list.data?.items ?? [];
  const typed = byId
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const ids = [...new Set([...selected, ...typed])];

  const connect = useAction(async () => {
    if (ids.length === 0) throw new Error(`Select ${other} or enter their ids first.`);
    try {
      if (kind === 'things') await api().connect(ids, [id]);
      else await api().connect([id], ids);
    } catch (err) {
      if (err instanceof TethysError && err.status === 409)
        throw new Error(
          `${errorMessage(err)}. One of them is already connected; the request is all or nothing, so nothing was connected.`,
        );
      if (err instanceof TethysError && err.status === 404)
        throw new Error(
          `${errorMessage(err)}. One of the ids is not one of your ${other}; nothing was connected.`,
        );
      throw err;
    }
    onConnected(ids.length);
  });

  const columns: Column<Entity>[] = [
    { key: 'name', label: 'Name', render: (e) => e.name || <em class="muted">unnamed</em> },
    { key: 'id', label: 'ID', class: 'mono', render: (e) => <code class="id">{e.id}</code> },
    { key: 'metadata', label: 'Metadata', render: (e) => <MetadataView metadata={e.metadata} /> },
  ];

  return (
    <Dialog title={`Connect ${other}`} onClose={onClose} wide>
      <p class="muted small-text">
        Your {other} not connected yet, by name. Select any number on any page; they are connected together,
        all or none.
      </p>
      <ErrorText error={list.error} prefix={`Could not load the ${other}`} />
      {list.loading && !list.data ? <Busy label={`Loading ${other}…`} /> : null}
      {list.data ? (
        <>
          <DataTable<Entity>
            caption={`${other} not connected`}
            columns={columns}
            rows={items}
            rowKey={(e) => e.id}
            busy={list.loading}
            selected={selected}
            onToggle={(x) => {
              const s = new Set(selected);
              if (s.has(x)) s.delete(x);
              else s.add(x);
              setSelected(s);
            }}
            onToggleAll={(pageIds, on) => {
              const s = new Set(selected);
              for (const x of pageIds) on ? s.add(x) : s.delete(x);
              setSelected(s);
            }}
            empty={`Every one of your ${other} is connected already.`}
          />
          <Pager
            label={`${other} not connected`}
            total={list.data.total}
            offset={offset}
            limit={limit}
            onChange={(o, l) => {
              setOffset(o);
              setLimit(l);
            }}
          />
        </>
      ) : null}
      <Field label={`Or ${other.slice(0, -1)} ids`} hint="Separated by spaces, commas or new lines.">
        {(fid, hint) => (
          <textarea
            id={fid}
            rows={2}
            class="code"
            aria-describedby={hint}
            value={byId}
            onInput={(e) => setById((e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <ErrorText error={connect.error} />
      {connect.busy ? <Busy label="Connecting…" /> : null}
      <div class="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          class="primary"
          disabled={connect.busy || ids.length === 0}
          onClick={() => connect.run()}
        >
          Connect {ids.length || ''} {ids.length === 1 ? other.slice(0, -1) : other}
        </button>
      </div>
    </Dialog>
  );
}
