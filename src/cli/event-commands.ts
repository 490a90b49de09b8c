import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AuditEvent, EventQuery } from '../../sdk/src/index.js';
import { parseGoDuration } from '../durations.js';
import { leaf } from './commands.js';
import { handler, printJson, uintArg } from './run.js';

/**
 * The audit trail from the command line (issue 21): `tethys events list` reads a page
 * as a table (or JSON), `tethys events follow` prints each new event as one line until
 * Ctrl-C (or SIGTERM).
 */
export function eventCommands(program: Command): void {
  const group = program.command('events').description('the audit trail: who changed what, when, from where');

  filterOptions(leaf(group, 'list', 'a page of events (GET /events), newest first, as a table'))
    .addOption(
      new Option('--from <time>', 'at or after: RFC 3339, milliseconds, or a duration ago (2h)').argParser(
        timeArg,
      ),
    )
    .addOption(
      new Option('--to <time>', 'before: RFC 3339, milliseconds, or a duration ago').argParser(timeArg),
    )
    .addOption(new Option('--offset <n>', 'skip this many').argParser(uintArg))
    .addOption(new Option('--limit <n>', 'at most this many, 1..100 (server default 10)').argParser(uintArg))
    .option('--asc', 'oldest first')
    .option('--json', 'print the page as JSON ({total, events})')
    .action(
      handler<[]>(true, async (api, _args, o) => {
        const query: EventQuery = {
          ...filters(o),
          from: o.from,
          to: o.to,
          offset: o.offset,
          limit: o.limit,
          dir: o.asc ? 'asc' : undefined,
        };
        const page = await api.events.list(query);
        if (o.json) {
          printJson(page);
          return;
        }
        process.stdout.write(table(page.events));
        const first = (o.offset ?? 0) + 1;
        process.stderr.write(
          page.events.length === 0
            ? `no events (of ${page.total} matching)\n`
            : `${first}–${first + page.events.length - 1} of ${page.total}, ${o.asc ? 'oldest' : 'newest'} first\n`,
        );
      }),
    );

  filterOptions(
    leaf(
      group,
      'follow',
      'print new events as they are committed, one a line, until Ctrl-C (polls GET /events)',
    ),
  )
    .addOption(
      new Option(
        '--since <time>',
        'also print those since this time: RFC 3339, milliseconds, or a duration ago',
      ).argParser(timeArg),
    )
    .addOption(
      new Option('--interval <duration>', 'time between polls, e.g. 1s or 500ms')
        .default(1000, '1s')
        .argParser(intervalArg),
    )
    .option('--json', 'one JSON object a line')
    .action(
      handler<[]>(true, async (api, _args, o) => {
        const stop = new AbortController();
        const end = () => stop.abort();
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
        const since = o.since ?? new Date().toISOString();
        process.stderr.write(`following events since ${since} (Ctrl-C to stop)\n`);
        for await (const event of api.events.follow(filters(o), {
          signal: stop.signal,
          intervalMs: o.interval,
          since,
        })) {
          process.stdout.write(o.json ? `${JSON.stringify(event)}\n` : `${line(event, FOLLOW_WIDTHS)}\n`);
        }
        process.off('SIGINT', end);
        process.off('SIGTERM', end);
      }),
    );
}

/** The filters list and follow share. */
function filterOptions(command: Command): Command {
  return command
    .option('--entity <id>', 'events about this entity (as the entity or the related one)')
    .option('--type <entity type>', 'thing, channel, connection, bootstrap, cert, user, key, group…')
    .option('--action <action>', 'an action (thing.create), or a prefix ending in a dot (thing.)')
    .option('--actor <actor>', 'an email, key:<id>, thing:<id>, enrollment:<group id> or system');
}

function filters(o: Record<string, any>): Pick<EventQuery, 'entity_id' | 'entity_type' | 'action' | 'actor'> {
  return { entity_id: o.entity, entity_type: o.type, action: o.action, actor: o.actor };
}

/** RFC 3339, milliseconds since 1970, or a Go duration meaning that long ago (`2h`). */
export function timeArg(value: string): string {
  if (/^\d{1,15}$/.test(value)) return value;
  const ago = parseGoDuration(value);
  if (ago !== null && ago >= 0) return new Date(Date.now() - ago).toISOString();
  if (/^\d{4}-\d\d-\d\d/.test(value) && Number.isFinite(Date.parse(value))) return value;
  throw new InvalidArgumentError(
    'Expected an RFC 3339 time (2026-12-01T00:00:00Z), milliseconds, or a duration ago (2h).',
  );
}

function intervalArg(value: string): number {
  const ms = parseGoDuration(value);
  if (ms === null || ms < 50)
    throw new InvalidArgumentError('Expected a duration of at least 50ms, such as 1s.');
  return ms;
}

// ---- output ---------------------------------------------------------------------------

const HEADERS = ['TIME', 'ACTOR', 'ACTION', 'ENTITY', 'DETAILS'];
/** follow cannot measure what is to come: fixed widths (longer values just push the line). */
const FOLLOW_WIDTHS = [20, 24, 20, 44];

function cells(e: AuditEvent): string[] {
  const time = `${e.time.slice(0, 19).replace('T', ' ')}Z`;
  const entity = `${e.entity_type} ${e.entity_id}`;
  return [time, e.actor, e.action, entity, summary(e)];
}

/** One event on one line, its columns padded to `widths` (the last one is not). */
function line(e: AuditEvent, widths: number[]): string {
  return row(cells(e), widths);
}

function row(values: string[], widths: number[]): string {
  return values
    .map((v, i) => (i < values.length - 1 ? v.padEnd(widths[i] ?? 0) : v))
    .join('  ')
    .trimEnd();
}

/** A header and one line an event, columns as wide as their widest value. */
export function table(events: AuditEvent[]): string {
  const rows = events.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return `${[HEADERS, ...rows].map((r) => row(r, widths)).join('\n')}\n`;
}

const MAX_SUMMARY = 100;

/** The details in one short line: `name="pump" metadata_fields=[site,floor] related=<id>`. */
export function summary(e: AuditEvent): string {
  const parts = Object.entries(e.details ?? {}).map(([k, v]) => `${k}=${brief(v)}`);
  if (e.related_id && !Object.values(e.details ?? {}).includes(e.related_id))
    parts.push(`related=${e.related_id}`);
  const text = parts.join(' ');
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

function brief(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:@/-]+$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(brief).join(',')}]`;
  return JSON.stringify(v) ?? String(v);
}
