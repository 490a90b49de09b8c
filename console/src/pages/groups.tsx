import { type Group, TethysError, type Thing } from '@tethys/sdk';
import { useState } from 'preact/hooks';
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
  Field,
  formatTime,
  JsonEditor,
  Loading,
  Notice,
  objectValidator,
  Pager,
  parseJsonObject,
  useAction,
  useLoad,
} from '../ui.tsx';

/**
 * Groups of things and users (the /groups API): a tree of up to five levels, each group
 * with its members. The server keeps each user's groups apart.
 */

type Node = Group & { children?: Node[] };
type MemberType = 'things' | 'users';

const MAX_LEVEL = 5;

/** The words for a refusal the groups API gives in its own terms. */
function groupProblem(err: unknown): never {
  if (err instanceof TethysError && err.status === 409) {
    if (/not empty/.test(err.message))
      throw new Error(
        'The group still has members (itself or a subgroup). Remove its things and users first, then delete it.',
      );
    if (/already assigned/.test(err.message))
      throw new Error('One of them is already in this group, so none was added. Leave it out and try again.');
    if (/already exists/.test(err.message))
      throw new Error('A group with this name already exists at this place. Choose another name.');
  }
  if (err instanceof TethysError && err.status === 400 && /maximum level/.test(err.message))
    throw new Error(`Groups nest at most ${MAX_LEVEL} levels deep; this one cannot have subgroups.`);
  throw err;
}

function flatten(nodes: Node[], out: Node[] = []): Node[] {
  for (const n of nodes) {
    out.push(n);
    if (n.children) flatten(n.children, out);
  }
  return out;
}

function Tree({ nodes, label }: { nodes: Node[]; label?: string }) {
  return (
    <ul class="tree" aria-label={label}>
      {nodes.map((g) => (
        <li key={g.id}>
          <a href={`#/groups/${encodeURIComponent(g.id)}`}>{g.name}</a>
          {g.description ? <span class="muted"> — {g.description}</span> : null}
          {g.children?.length ? <Tree nodes={g.children} /> : null}
        </li>
      ))}
    </ul>
  );
}

export function GroupsPage() {
  const groups = useLoad(
    async (signal) => (await api(signal).groups.list({ level: MAX_LEVEL, tree: true })).groups as Node[],
    [],
  );
  const [creating, setCreating] = useState(false);
  return (
    <section>
      <div class="page-head">
        <h1>Groups</h1>
        <div class="actions">
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New group
          </button>
        </div>
      </div>
      <p class="muted small-text">
        Groups gather things and users, for example by site or by customer. A group can hold subgroups, up to{' '}
        {MAX_LEVEL} levels deep.
      </p>
      <ErrorText error={groups.error} prefix="Could not load the groups" />
      {groups.loading && !groups.data ? <Busy label="Loading groups…" /> : null}
      {groups.data ? (
        groups.data.length ? (
          <div class="panel">
            <Tree nodes={groups.data} label="Your groups" />
          </div>
        ) : (
          <p class="empty">No groups yet. Create one to gather things and users.</p>
        )
      ) : null}
      {creating ? (
        <GroupForm
          parents={flatten(groups.data ?? [])}
          onClose={() => setCreating(false)}
          onSaved={(id) => {
            setCreating(false);
            navigate(`/groups/${encodeURIComponent(id)}`);
          }}
        />
      ) : null}
    </section>
  );
}

/** Creates a group (under a parent of choice) or edits one. */
function GroupForm({
  group,
  parents,
  parentId,
  onClose,
  onSaved,
}: {
  group?: Group;
  /** The groups a new one may go under. */
  parents?: Node[];
  parentId?: string;
  onClose: () => void;
  onSaved: (id: string) => void;
}) {
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [parent, setParent] = useState(parentId ?? '');
  const [metadata, setMetadata] = useState(
    group?.metadata && Object.keys(group.metadata).length ? JSON.stringify(group.metadata, null, 2) : '',
  );
  const invalid = objectValidator(metadata);
  const save = useAction(async () => {
    const meta = parseJsonObject(metadata).value ?? {};
    const fields = {
      name: name.trim(),
      description: description.trim() || undefined,
      metadata: Object.keys(meta).length ? meta : undefined,
    };
    if (group) {
      await api().groups.update(group.id, fields).catch(groupProblem);
      onSaved(group.id);
    } else {
      const id = await api()
        .groups.create({ ...fields, parent_id: parent || undefined })
        .catch(groupProblem);
      onSaved(id);
    }
  });
  const fixedParent = parentId ? parents?.find((p) => p.id === parentId) : undefined;
  return (
    <Dialog
      title={group ? `Edit ${group.name}` : fixedParent ? `New subgroup of ${fixedParent.name}` : 'New group'}
      onClose={onClose}
      wide
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) save.run();
        }}
      >
        <Field label="Name">
          {(id) => (
            <input
              id={id}
              required
              maxLength={254}
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="Description (optional)">
          {(id) => (
            <input
              id={id}
              value={description}
              onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        {!group && parents && !parentId ? (
          <Field label="Inside group" hint="Choose a group to make this one its subgroup.">
            {(id, hint) => (
              <select
                id={id}
                aria-describedby={hint}
                value={parent}
                onChange={(e) => setParent((e.target as HTMLSelectElement).value)}
              >
                <option value="">None: a top-level group</option>
                {parents
                  .filter((p) => p.level < MAX_LEVEL)
                  .map((p) => (
                    <option key={p.id} value={p.id}>
                      {`${'\u00a0\u00a0'.repeat(p.level - 1)}${p.name}`}
                    </option>
                  ))}
              </select>
            )}
          </Field>
        ) : null}
        <JsonEditor
          label="Metadata (optional)"
          value={metadata}
          onInput={setMetadata}
          validate={objectValidator}
          rows={4}
          hint='Your own labels, as a JSON object, for example {"site": "north"}.'
        />
        <ErrorText error={save.error} prefix={group ? 'Not saved' : 'Not created'} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={save.busy || Boolean(invalid)}>
            {save.busy ? 'Saving…' : group ? 'Save' : 'Create group'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function GroupPage({ id }: { id: string }) {
  const group = useLoad(
    async (signal) => {
      const client = api(signal);
      const [g, up, down] = await Promise.all([
        client.groups.get(id),
        client.groups.parents(id, { level: MAX_LEVEL }),
        client.groups.children(id, { level: MAX_LEVEL, tree: true }),
      ]);
      const ancestors = (up.groups as Node[]).filter((p) => p.id !== id).sort((a, b) => a.level - b.level);
      const self = (down.groups as Node[]).find((n) => n.id === id);
      return { group: g, ancestors, subgroups: self?.children ?? [] };
    },
    [id],
  );
  const [dialog, setDialog] = useState<'' | 'edit' | 'delete' | 'subgroup'>('');
  return (
    <Loading load={group} what="group" back="#/groups">
      {({ group: g, ancestors, subgroups }) => (
        <section>
          <nav class="crumbs" aria-label="Breadcrumb">
            <a href="#/groups">Groups</a>
            {ancestors.map((a) => (
              <span key={a.id}>
                {' '}
                <span aria-hidden="true">›</span>{' '}
                <a href={`#/groups/${encodeURIComponent(a.id)}`}>{a.name}</a>
              </span>
            ))}{' '}
            <span aria-hidden="true">›</span> <span aria-current="page">{g.name}</span>
          </nav>
          <div class="page-head">
            <h1>{g.name}</h1>
            <div class="actions">
              <button type="button" onClick={() => setDialog('edit')}>
                Edit
              </button>
              <button type="button" class="danger" onClick={() => setDialog('delete')}>
                Delete
              </button>
            </div>
          </div>
          <dl class="facts">
            <dt>ID</dt>
            <dd>
              <code class="id">{g.id}</code> <CopyButton text={g.id} label="Copy id" />
            </dd>
            <dt>Description</dt>
            <dd>{g.description || <span class="muted">—</span>}</dd>
            <dt>Metadata</dt>
            <dd>
              {g.metadata && Object.keys(g.metadata).length ? (
                <pre class="json">{JSON.stringify(g.metadata, null, 2)}</pre>
              ) : (
                <span class="muted">—</span>
              )}
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(g.created_at)}</dd>
          </dl>
          <div class="panel">
            <div class="page-head">
              <h2>Subgroups</h2>
              {g.level < MAX_LEVEL ? (
                <div class="actions">
                  <button type="button" onClick={() => setDialog('subgroup')}>
                    New subgroup
                  </button>
                </div>
              ) : null}
            </div>
            {subgroups.length ? (
              <Tree nodes={subgroups} label={`Subgroups of ${g.name}`} />
            ) : (
              <p class="empty">
                {g.level < MAX_LEVEL
                  ? 'No subgroups.'
                  : `No subgroups: this group is ${MAX_LEVEL} levels deep, the most there can be.`}
              </p>
            )}
          </div>
          <MembersPanel group={g} type="things" />
          <MembersPanel group={g} type="users" />
          {dialog === 'edit' ? (
            <GroupForm
              group={g}
              onClose={() => setDialog('')}
              onSaved={() => {
                setDialog('');
                group.reload();
              }}
            />
          ) : null}
          {dialog === 'subgroup' ? (
            <GroupForm
              parents={[g]}
              parentId={g.id}
              onClose={() => setDialog('')}
              onSaved={(child) => {
                setDialog('');
                navigate(`/groups/${encodeURIComponent(child)}`);
              }}
            />
          ) : null}
          {dialog === 'delete' ? (
            <Confirm
              title="Delete group"
              message={
                <p>
                  Delete <strong>{g.name}</strong>
                  {subgroups.length ? ' and its subgroups' : ''}? Its things and users stay; only the group
                  goes.
                </p>
              }
              confirmLabel="Delete group"
              onConfirm={async () => {
                await api().groups.remove(g.id).catch(groupProblem);
                navigate('/groups');
              }}
              onClose={() => setDialog('')}
            />
          ) : null}
        </section>
      )}
    </Loading>
  );
}

interface Member {
  id: string;
  /** The thing, when the member is one of your things. */
  thing?: Thing | null;
  you?: boolean;
}

const PAGE = 10;

function MembersPanel({ group, type }: { group: Group; type: MemberType }) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(PAGE);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [notice, setNotice] = useState('');
  const title = type === 'things' ? 'Things' : 'Users';
  const members = useLoad(
    async (signal) => {
      const client = api(signal);
      const page = await client.groups.members(group.id, { type, offset, limit });
      let rows: Member[];
      if (type === 'things') {
        rows = await Promise.all(
          page.Members.map(async (m) => ({
            id: m.ID,
            thing: await client.things.get(m.ID).catch(() => null),
          })),
        );
      } else {
        const me = await client.users.profile().catch(() => null);
        rows = page.Members.map((m) => ({ id: m.ID, you: m.ID === me?.id }));
      }
      return { total: page.total, rows };
    },
    [group.id, type, offset, limit],
  );
  const columns: Column<Member>[] =
    type === 'things'
      ? [
          {
            key: 'name',
            label: 'Thing',
            render: (m) =>
              m.thing ? (
                <a href={`#/things/${encodeURIComponent(m.id)}`}>{m.thing.name || <em>unnamed thing</em>}</a>
              ) : (
                <span class="muted">not one of your things (deleted?)</span>
              ),
          },
          { key: 'id', label: 'ID', class: 'mono', render: (m) => <code class="id">{m.id}</code> },
        ]
      : [
          {
            key: 'id',
            label: 'User id',
            class: 'mono',
            render: (m) => (
              <>
                <code class="id">{m.id}</code>
                {m.you ? <span class="badge on"> you</span> : null}
              </>
            ),
          },
        ];
  columns.push({
    key: 'actions',
    label: 'Actions',
    class: 'row-actions',
    render: (m) => (
      <button type="button" class="small danger" onClick={() => setRemoving(m)}>
        Remove<span class="visually-hidden"> {m.thing?.name || m.id} from the group</span>
      </button>
    ),
  });
  const what = type === 'things' ? 'thing' : 'user';
  return (
    <div class="panel">
      <div class="page-head">
        <h2>{title} in this group</h2>
        <div class="actions">
          <button type="button" onClick={() => setAdding(true)}>
            Add {type}
          </button>
        </div>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <ErrorText error={members.error} prefix={`Could not load the group's ${type}`} />
      {members.loading && !members.data ? <Busy label={`Loading ${type}…`} /> : null}
      {members.data ? (
        <>
          <DataTable<Member>
            caption={`${title} in ${group.name}`}
            columns={columns}
            rows={members.data.rows}
            rowKey={(m) => m.id}
            busy={members.loading}
            empty={`No ${type} in this group yet.`}
          />
          {members.data.total > limit ? (
            <Pager
              label={`${title} in ${group.name}`}
              total={members.data.total}
              offset={offset}
              limit={limit}
              onChange={(o, l) => {
                setOffset(o);
                setLimit(l);
              }}
            />
          ) : null}
        </>
      ) : null}
      {adding ? (
        <AddMembers
          group={group}
          type={type}
          onClose={() => setAdding(false)}
          onAdded={(n) => {
            setAdding(false);
            setNotice(`Added ${n} ${n === 1 ? what : `${what}s`} to ${group.name}.`);
            members.reload();
          }}
        />
      ) : null}
      {removing ? (
        <Confirm
          title={`Remove ${what}`}
          message={
            <p>
              Remove <strong>{removing.thing?.name || removing.id}</strong> from {group.name}? The {what}{' '}
              itself stays.
            </p>
          }
          confirmLabel={`Remove ${what}`}
          onConfirm={async () => {
            await api().groups.unassign(group.id, [removing.id]);
            setNotice(`Removed ${removing.thing?.name || removing.id} from ${group.name}.`);
            members.reload();
          }}
          onClose={() => setRemoving(null)}
        />
      ) : null}
    </div>
  );
}

function AddMembers({
  group,
  type,
  onClose,
  onAdded,
}: {
  group: Group;
  type: MemberType;
  onClose: () => void;
  onAdded: (count: number) => void;
}) {
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [ids, setIds] = useState('');
  const add = useAction(async () => {
    const members =
      type === 'things'
        ? [...chosen]
        : ids
            .split(/[\s,]+/)
            .map((s) => s.trim())
            .filter(Boolean);
    if (members.length === 0)
      throw new Error(type === 'things' ? 'Tick at least one thing.' : 'Enter at least one user id.');
    await api().groups.assign(group.id, type, members).catch(groupProblem);
    onAdded(members.length);
  });
  return (
    <Dialog title={`Add ${type} to ${group.name}`} onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.run();
        }}
      >
        {type === 'things' ? (
          <ThingChooser chosen={chosen} onChange={setChosen} />
        ) : (
          <UserIds value={ids} onInput={setIds} />
        )}
        <ErrorText error={add.error} prefix="Nothing was added" />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={add.busy}>
            {add.busy
              ? 'Adding…'
              : type === 'things'
                ? `Add ${chosen.size || ''} ${chosen.size === 1 ? 'thing' : 'things'}`.replace('  ', ' ')
                : 'Add users'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Your things, searched by name, to tick. */
function ThingChooser({ chosen, onChange }: { chosen: Set<string>; onChange: (s: Set<string>) => void }) {
  const [name, setName] = useState('');
  const things = useLoad(
    async (signal) => (await api(signal).things.list({ name: name.trim() || undefined, limit: 20 })).things,
    [name],
  );
  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onChange(next);
  };
  return (
    <>
      <Field label="Find things by name">
        {(id) => (
          <input
            id={id}
            type="search"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        )}
      </Field>
      <ErrorText error={things.error} prefix="Could not load your things" />
      {things.loading && !things.data ? <Busy label="Loading things…" /> : null}
      {things.data ? (
        <fieldset class="choices">
          <legend>Things to add ({chosen.size} ticked)</legend>
          {things.data.length === 0 ? <p class="empty">No thing matches.</p> : null}
          {things.data.map((t) => (
            <label key={t.id} class="check">
              <input type="checkbox" checked={chosen.has(t.id)} onChange={() => toggle(t.id)} />{' '}
              {t.name || 'unnamed thing'} <code class="id">{t.id}</code>
            </label>
          ))}
        </fieldset>
      ) : null}
    </>
  );
}

function UserIds({ value, onInput }: { value: string; onInput: (v: string) => void }) {
  const me = useLoad((signal) => api(signal).users.profile(), []);
  return (
    <>
      <Field
        label="User ids"
        hint="One or more, separated by spaces or new lines. Each user finds their id on their Account page."
      >
        {(id, hint) => (
          <textarea
            id={id}
            class="code"
            rows={3}
            aria-describedby={hint}
            value={value}
            onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      {me.data ? (
        <p>
          <button
            type="button"
            class="small"
            onClick={() => onInput(value.trim() ? `${value.trim()}\n${me.data!.id}` : me.data!.id)}
          >
            Add my own account
          </button>
        </p>
      ) : null}
    </>
  );
}

/** The groups a thing is in, linked (on the thing's page). */
export function ThingGroupsPanel({ thingId }: { thingId: string }) {
  const groups = useLoad(
    async (signal) => (await api(signal).groups.memberships(thingId, { limit: 100 })).groups,
    [thingId],
  );
  return (
    <div class="panel">
      <h2>Groups</h2>
      <ErrorText error={groups.error} prefix="Could not load the thing's groups" />
      {groups.loading && !groups.data ? <Busy label="Loading groups…" /> : null}
      {groups.data?.length === 0 ? (
        <p class="empty">
          In no group. Add it from a group's page under <a href="#/groups">Groups</a>.
        </p>
      ) : null}
      {groups.data?.length ? (
        <ul class="tree" aria-label="Groups of this thing">
          {groups.data.map((g) => (
            <li key={g.id}>
              <a href={`#/groups/${encodeURIComponent(g.id)}`}>{g.name}</a>
              {g.description ? <span class="muted"> — {g.description}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
