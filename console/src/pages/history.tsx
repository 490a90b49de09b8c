import type { AuditEvent } from '@tethys/sdk';
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type EntityKind, orMissing } from '../api.ts';
import { Busy, ErrorText, Pager, useLoad } from '../ui.tsx';
import './history.css';

/**
 * The audit trail in operator language (issue 21): each event as a sentence ("ops@…
 * renamed the thing 'pump 2'"), its time relative with the exact time on hover, what
 * changed in a few words, and links to the things and channels it names ("removed" for
 * those that are gone). The Activity page lists every event; a thing's (a gateway's) or
 * a channel's page shows its History with `HistoryPanel`.
 */

// ---- who, what, when ------------------------------------------------------------------

const short = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…` : id);

/** The actor in words: a user's email, an API key and its user, a device, the system. */
function actorText(e: AuditEvent): ComponentChildren {
  const [kind, id] = splitActor(e.actor);
  if (e.actor === 'system') return 'The system';
  if (kind === 'key')
    return (
      <>
        API key <code title={id}>{short(id)}</code>
        {e.actor_user ? ` of ${e.actor_user}` : ''}
      </>
    );
  if (kind === 'thing')
    return (
      <>
        The device <a href={`#/things/${id}`}>{short(id)}</a>
      </>
    );
  if (kind === 'enrollment')
    return (
      <>
        A device of enrollment group <a href={`#/enrollments/${id}`}>{short(id)}</a>
      </>
    );
  return e.actor;
}

function splitActor(actor: string): [string, string] {
  const colon = actor.indexOf(':');
  return colon < 0 ? ['', actor] : [actor.slice(0, colon), actor.slice(colon + 1)];
}

const VERBS: Record<string, string> = {
  create: 'created',
  update: 'changed',
  remove: 'removed',
  delete: 'removed',
  key_change: 'changed the key of',
  rotate_key: 'changed the key of',
  state: 'changed the state of',
  revoke: 'revoked',
  issue: 'issued',
  renew: 'renewed',
  register: 'registered',
  assign: 'added members to',
  unassign: 'removed members from',
  enable: 'enabled',
  disable: 'disabled',
  login: 'logged in as',
  password_change: 'changed the password of',
  password_reset: 'reset the password of',
  connections: 'changed the channels of',
};

const NOUNS: Record<string, string> = {
  thing: 'the thing',
  channel: 'the channel',
  bootstrap: 'the gateway config of',
  cert: 'a certificate of',
  key: 'the API key',
  user: 'the account',
  group: 'the group',
  enrollment: 'the enrollment group',
  registration: 'the registration',
  layout: 'the layout',
};

/** The action families the Activity page filters on, as operators call them. */
export const FAMILIES: [string, string][] = [
  ['thing.', 'Things'],
  ['channel.', 'Channels'],
  ['connection.', 'Connections'],
  ['bootstrap.', 'Gateway configs'],
  ['cert.', 'Certificates'],
  ['key.', 'API keys'],
  ['user.', 'Accounts'],
  ['group.', 'Groups'],
  ['enrollment.', 'Enrollment groups'],
  ['registration.', 'Device registrations'],
  ['layout.', 'Layouts'],
];

/** What is known of the things and channels an event list names: null when removed. */
export type Known = Map<string, { name: string } | null>;

/** A thing or channel by name, linked to its page, or marked removed. */
function EntityRef({
  kind,
  id,
  name,
  known,
}: {
  kind: EntityKind;
  id: string;
  name?: unknown;
  known: Known;
}) {
  const found = known.get(id);
  const label = typeof name === 'string' && name ? name : found?.name;
  // A name in quotes; an unnamed one by its id.
  const text = label ? `'${label}'` : short(id);
  if (found === null)
    return (
      <span class="entity-gone" title={id}>
        {text} <span class="badge off">removed</span>
      </span>
    );
  return (
    <a href={`#/${kind}/${id}`} title={id}>
      {text}
    </a>
  );
}

/** "ops@example.com renamed the thing 'pump 2'", the entity linked. */
export function Sentence({ event: e, known }: { event: AuditEvent; known: Known }) {
  const [type, verb = ''] = e.action.split('.', 2) as [string, string?];
  const d = e.details ?? {};
  const who = actorText(e);
  if (type === 'connection') {
    const thing = typeof d.thing_id === 'string' ? d.thing_id : (e.related_id ?? '');
    const channel = typeof d.channel_id === 'string' ? d.channel_id : e.entity_id;
    const connect = verb === 'create';
    return (
      <>
        {who} {connect ? 'connected' : 'disconnected'} the thing{' '}
        <EntityRef kind="things" id={thing} known={known} /> {connect ? 'to' : 'from'} the channel{' '}
        <EntityRef kind="channels" id={channel} known={known} />
      </>
    );
  }
  const renamed =
    type !== 'cert' && verb === 'update' && typeof d.old_name === 'string' && d.old_name !== d.name;
  const words = renamed ? 'renamed' : (VERBS[verb] ?? `did “${verb.replaceAll('_', ' ')}” on`);
  const noun = NOUNS[type] ?? `the ${type}`;
  let target: ComponentChildren;
  if (type === 'thing' || type === 'bootstrap') {
    target = (
      <EntityRef kind="things" id={e.entity_id} name={type === 'thing' ? d.name : undefined} known={known} />
    );
  } else if (type === 'channel') {
    target = <EntityRef kind="channels" id={e.entity_id} name={d.name} known={known} />;
  } else if (type === 'cert' && e.related_id) {
    target = <EntityRef kind="things" id={e.related_id} known={known} />;
  } else if (type === 'enrollment') {
    target = (
      <a href={`#/enrollments/${e.entity_id}`}>
        {typeof d.name === 'string' ? `'${d.name}'` : short(e.entity_id)}
      </a>
    );
  } else if (type === 'layout') {
    target = <a href={`#/layouts/${encodeURIComponent(e.entity_id)}`}>'{e.entity_id}'</a>;
  } else {
    target = <code title={e.entity_id}>{nameOf(d) ?? short(e.entity_id)}</code>;
  }
  return (
    <>
      {who} {words} {noun} {renamed ? <>'{String(d.old_name)}' to </> : null}
      {target}
    </>
  );
}

/** The name (or, for an account, the e-mail address) an event's details give. */
function nameOf(d: Record<string, unknown>): string | undefined {
  for (const k of ['name', 'email']) if (typeof d[k] === 'string' && d[k]) return d[k] as string;
  return undefined;
}

/** Fields the sentence already says. */
const SAID = new Set(['name', 'email', 'old_name', 'thing_id', 'channel_id']);

/** What changed, in a few words: "metadata fields: site, floor · state: active". */
export function detailsText(e: AuditEvent): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(e.details ?? {})) {
    if (SAID.has(k) || v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    const label = k === 'metadata_fields' ? 'metadata' : words(k);
    // Field names are named as the console names them elsewhere.
    const value =
      k.endsWith('_fields') && Array.isArray(v)
        ? v.map((f) => words(String(f))).join(', ')
        : k === 'state' && (v === 0 || v === 1)
          ? (['inactive', 'active'][v] as string)
          : plain(v);
    parts.push(`${label}: ${value}`);
  }
  return parts.join(' · ');
}

/** The metadata a gateway is provisioned with, as its page names it. */
const FIELD_WORDS: Record<string, string> = {
  cfg_id: 'config',
  ctrl_channel_id: 'control channel',
  data_channel_id: 'data channel',
  export_channel_id: 'export channel',
};

const words = (name: string) => FIELD_WORDS[name] ?? name.replaceAll('_', ' ');

function plain(v: unknown): string {
  if (Array.isArray(v)) return v.map(plain).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 minutes ago" (or "just now"), from `now`. */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = Date.parse(iso) - now;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms) return rtf.format(Math.round(diff / ms), unit);
  }
  return 'just now';
}

/** A relative time with the exact one on hover (and for screen readers in datetime). */
export function When({ iso }: { iso: string }) {
  // Re-rendered each minute, so "just now" does not stay.
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 60_000);
    return () => clearInterval(timer);
  }, []);
  const exact = new Date(iso).toLocaleString();
  return (
    <time dateTime={iso} title={exact}>
      {relativeTime(iso)}
    </time>
  );
}

// ---- a list of events -------------------------------------------------------------------

/** The things and channels an event names, to say which are gone. */
function named(events: AuditEvent[]): { things: string[]; channels: string[] } {
  const things = new Set<string>();
  const channels = new Set<string>();
  for (const e of events) {
    const [type] = e.action.split('.', 1);
    const d = e.details ?? {};
    if (type === 'thing' || type === 'bootstrap') things.add(e.entity_id);
    if (type === 'channel') channels.add(e.entity_id);
    if (type === 'cert' && e.related_id) things.add(e.related_id);
    if (type === 'connection') {
      things.add(typeof d.thing_id === 'string' ? d.thing_id : (e.related_id ?? ''));
      channels.add(typeof d.channel_id === 'string' ? d.channel_id : e.entity_id);
    }
    const [kind, id] = splitActor(e.actor);
    if (kind === 'thing') things.add(id);
  }
  things.delete('');
  channels.delete('');
  return { things: [...things], channels: [...channels] };
}

/** Looks up the things and channels the events name (in parallel): their names, or null when gone. */
function useKnown(events: AuditEvent[] | undefined): Known {
  const ids = useMemo(() => named(events ?? []), [events]);
  const key = `${ids.things.join()}|${ids.channels.join()}`;
  const found = useLoad(
    async (signal) => {
      const known: Known = new Map();
      const client = api(signal);
      const look = async (kind: EntityKind, id: string) => {
        try {
          const entity = await orMissing(client[kind].get(id));
          known.set(id, entity ? { name: entity.name ?? '' } : null);
        } catch {
          // Not readable (another user's): neither named nor said to be gone.
        }
      };
      await Promise.all([
        ...ids.things.map((id) => look('things', id)),
        ...ids.channels.map((id) => look('channels', id)),
      ]);
      return known;
    },
    [key],
  );
  return found.data ?? new Map();
}

/** Events, newest first as given, each a sentence with its time, details and source. */
export function EventList({ events, empty, label }: { events: AuditEvent[]; empty: string; label: string }) {
  const known = useKnown(events);
  if (events.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ol class="events" aria-label={label}>
      {events.map((e) => {
        const details = detailsText(e);
        return (
          <li key={e.id}>
            <p class="event-what">
              <Sentence event={e} known={known} />
            </p>
            <p class="event-meta">
              <When iso={e.time} />
              {e.source ? <> · from {e.source}</> : null}
              {details ? <> · {details}</> : null}
            </p>
          </li>
        );
      })}
    </ol>
  );
}

const REFRESH_MS = 5000;

/** The History of a thing (a gateway's too: its config's events are the thing's) or a channel. */
export function HistoryPanel({ kind, id }: { kind: EntityKind; id: string }) {
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(10);
  const page = useLoad(
    (signal) => api(signal)[kind].events(id, { offset, limit }),
    [kind, id, offset, limit],
  );
  // Changes made on this page (or elsewhere) show up: the first page is read again now and then.
  const reload = useRef(page.reload);
  reload.current = page.reload;
  useEffect(() => {
    if (offset !== 0) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload.current();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [offset]);
  const what = kind === 'things' ? 'thing' : 'channel';
  return (
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ErrorText error={page.error} prefix="Could not load the history" />
      {page.loading && !page.data ? <Busy label="Loading the history…" /> : null}
      {page.data ? (
        <>
          <EventList
            events={page.data.events}
            label={`History of this ${what}`}
            empty={`Nothing has been recorded about this ${what}.`}
          />
          {page.data.total > limit || offset > 0 ? (
            <Pager
              label="History"
              total={page.data.total}
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
      <p>
        <a href={`#/activity?entity=${encodeURIComponent(id)}`}>All activity about this {what}</a>
      </p>
    </section>
  );
}
