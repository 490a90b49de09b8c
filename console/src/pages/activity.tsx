import type { EventQuery } from '@tethys/sdk';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { navigate, pageOf } from '../router.ts';
import { Busy, ErrorText, Field, Pager, useLoad } from '../ui.tsx';
import { EventList, FAMILIES } from './history.tsx';

/**
 * Activity (issue 21): every change you may see (yours; the admin's: everyone's), newest
 * first, filtered by kind of change, by who made it, by entity and by time. The filters
 * and the page live in the URL (#/activity?action=thing.&offset=25), so back, forward
 * and links keep them.
 */

const PERIODS: [string, string, number][] = [
  ['', 'Any time', 0],
  ['1h', 'Last hour', 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['30d', 'Last 30 days', 30 * 86_400_000],
  ['custom', 'Between…', 0],
];

interface Filters {
  action: string;
  actor: string;
  entity: string;
  period: string;
  /** datetime-local values (the browser's time zone), for `custom`. */
  from: string;
  to: string;
}

function filtersOf(query: URLSearchParams): Filters {
  const get = (k: string) => query.get(k) ?? '';
  const period = get('period');
  return {
    action: get('action'),
    actor: get('actor'),
    entity: get('entity'),
    period: PERIODS.some(([p]) => p === period) ? period : '',
    from: get('from'),
    to: get('to'),
  };
}

/** The query GET /events takes for these filters (a period counts back from now). */
function eventQuery(f: Filters): EventQuery {
  const local = (v: string) => (v && Number.isFinite(Date.parse(v)) ? new Date(v) : undefined);
  const back = PERIODS.find(([p]) => p === f.period)?.[2] ?? 0;
  return {
    action: f.action || undefined,
    actor: f.actor || undefined,
    entity_id: f.entity || undefined,
    from: f.period === 'custom' ? local(f.from) : back ? new Date(Date.now() - back) : undefined,
    to: f.period === 'custom' ? local(f.to) : undefined,
  };
}

export function ActivityPage({ query }: { query: URLSearchParams }) {
  const applied = filtersOf(query);
  const { offset, limit } = pageOf(query, 25);
  const [form, setForm] = useState(applied);
  const queryText = query.toString();
  useEffect(() => setForm(filtersOf(new URLSearchParams(queryText))), [queryText]);

  const page = useLoad(
    (signal) => api(signal).events.list({ ...eventQuery(applied), offset, limit }),
    [queryText],
  );
  const go = (f: Filters, o: number, l: number) =>
    navigate('/activity', {
      ...f,
      from: f.period === 'custom' ? f.from : '',
      to: f.period === 'custom' ? f.to : '',
      offset: o || undefined,
      limit: l === 25 ? undefined : l,
    });
  const set = (k: keyof Filters) => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement | HTMLSelectElement).value });
  const filtered = Object.values(applied).some(Boolean);

  return (
    <section>
      <div class="page-head">
        <h1>Activity</h1>
      </div>
      <p class="muted">
        Every change to your things, channels, gateways and settings: who made it, when, and from where.
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: role=search on the form is the widely supported form of <search> */}
      <form
        class="search activity-filters"
        role="search"
        aria-label="Filter the activity"
        onSubmit={(e) => {
          e.preventDefault();
          go({ ...form, actor: form.actor.trim(), entity: form.entity.trim() }, 0, limit);
        }}
      >
        <Field label="Kind of change">
          {(id) => (
            <select id={id} value={form.action} onChange={set('action')}>
              <option value="">All changes</option>
              {FAMILIES.map(([prefix, label]) => (
                <option key={prefix} value={prefix}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Made by" hint="An e-mail address, key:<id>, thing:<id> or system.">
          {(id, hint) => (
            <input id={id} type="search" aria-describedby={hint} value={form.actor} onInput={set('actor')} />
          )}
        </Field>
        <Field label="About (id)" hint="A thing's, channel's or other entity's id.">
          {(id, hint) => (
            <input
              id={id}
              type="search"
              aria-describedby={hint}
              autocomplete="off"
              value={form.entity}
              onInput={set('entity')}
            />
          )}
        </Field>
        <Field label="When">
          {(id) => (
            <select id={id} value={form.period} onChange={set('period')}>
              {PERIODS.map(([p, label]) => (
                <option key={p} value={p}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {form.period === 'custom' ? (
          <>
            <Field label="From">
              {(id) => <input id={id} type="datetime-local" value={form.from} onInput={set('from')} />}
            </Field>
            <Field label="Until">
              {(id) => <input id={id} type="datetime-local" value={form.to} onInput={set('to')} />}
            </Field>
          </>
        ) : null}
        <div class="search-buttons">
          <button type="submit">Filter</button>
          {filtered ? (
            <button type="button" class="link" onClick={() => navigate('/activity')}>
              Clear
            </button>
          ) : null}
        </div>
      </form>

      <ErrorText error={page.error} prefix="Could not load the activity" />
      {page.loading && !page.data ? <Busy label="Loading the activity…" /> : null}
      {page.data ? (
        <div aria-busy={page.loading ? 'true' : 'false'}>
          <EventList
            events={page.data.events}
            label="Activity, newest first"
            empty={filtered ? 'No change matches these filters.' : 'Nothing has been recorded yet.'}
          />
          {page.data.total > 0 ? (
            <Pager
              label="Activity"
              total={page.data.total}
              offset={offset}
              limit={limit}
              onChange={(o, l) => go(applied, o, l)}
            />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
