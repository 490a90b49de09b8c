import { TethysError } from '@tethys/sdk';
import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { failureText } from './api.ts';

/** The words to show for a failure: the API's message, or the exception's. */
export function errorMessage(error: unknown): string {
  const failure = failureText(error);
  if (failure) return failure;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error next to the action that caused it; announced to screen readers. */
export function ErrorText({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {errorMessage(error)}
    </p>
  );
}

export function Notice({
  children,
  kind = 'info',
}: {
  children: ComponentChildren;
  kind?: 'info' | 'ok' | 'warn';
}) {
  return (
    <p class={`notice notice-${kind}`} role="status">
      {children}
    </p>
  );
}

/** Runs an async action: busy while it runs, its error kept for display. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fnRef.current(...args);
    } catch (err) {
      if (mounted.current) setError(err);
      return undefined;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  return { run, busy, error, setError };
}

/** Loads data when `deps` change; `reload()` loads again. */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    fn(controller.signal).then(
      (d) => {
        if (controller.signal.aborted) return;
        setData(d);
        setLoading(false);
      },
      (err) => {
        if (controller.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1), setData };
}

export function Busy({ label }: { label: string }) {
  return (
    <p class="busy" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** A page's data: loading, not found (a 404: with a link back to its list), failed, or shown. */
export function Loading<T>({
  load,
  what,
  back,
  children,
}: {
  load: ReturnType<typeof useLoad<T>>;
  what: string;
  /** The list to go back to, e.g. `#/things`. */
  back: string;
  children: (data: T) => ComponentChildren;
}) {
  if (load.error) {
    if (load.error instanceof TethysError && load.error.status === 404)
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no such {what}, or it is not yours. <a href={back}>Back to the list</a>.
          </p>
        </section>
      );
    return <ErrorText error={load.error} prefix={`Could not load the ${what}`} />;
  }
  if (!load.data) return <Busy label={`Loading the ${what}…`} />;
  return <>{children(load.data)}</>;
}

export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const id = useId();
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div class="progress">
      <label for={id}>{label}</label>
      <progress id={id} value={value} max={max}>
        {pct}%
      </progress>
      <span class="progress-text" aria-hidden="true">
        {value.toLocaleString()} / {max.toLocaleString()} ({pct}%)
      </span>
    </div>
  );
}

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: ComponentChildren;
  children: (id: string, hintId: string | undefined) => ComponentChildren;
  id?: string;
}) {
  const generated = useId();
  const fieldId = id ?? generated;
  const hintId = hint ? `${fieldId}-hint` : undefined;
  return (
    <div class="field">
      <label for={fieldId}>{label}</label>
      {children(fieldId, hintId)}
      {hint ? (
        <small id={hintId} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** A modal dialog (native <dialog>: focus is kept inside, Escape closes it, focus returns after). */
export function Dialog({
  title,
  onClose,
  children,
  wide,
  closable = true,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
  /** False while a long action runs that must not be left half-way (Escape is ignored too). */
  closable?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (closable) onClose();
      }}
    >
      <header class="dialog-header">
        <h2 id={titleId}>{title}</h2>
        {closable ? (
          <button type="button" class="icon" aria-label="Close dialog" onClick={onClose}>
            ×
          </button>
        ) : null}
      </header>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}

/** Asks before a destructive action; the action's error stays in the dialog. */
export function Confirm({
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const action = useAction(async () => {
    await onConfirm();
    onClose();
  });
  return (
    <Dialog title={title} onClose={onClose}>
      <div>{message}</div>
      <ErrorText error={action.error} />
      {action.busy ? <Busy label="Working…" /> : null}
      <div class="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={action.busy} onClick={() => action.run()}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** Copies with the Clipboard API, or by selecting a hidden field where that is not available (plain http). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser did not allow copying; select the text and copy it by hand');
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'' | 'copied' | string>('');
  return (
    <span class="copy">
      <button
        type="button"
        class="small"
        onClick={() =>
          copyText(text).then(
            () => setState('copied'),
            (err) => setState(`Copy failed: ${errorMessage(err)}`),
          )
        }
      >
        {label}
      </button>
      <span class={state && state !== 'copied' ? 'error' : 'ok'} role="status">
        {state === 'copied' ? 'Copied' : state}
      </span>
    </span>
  );
}

/** A secret shown as dots until revealed, with a copy button. */
export function Secret({ value, label }: { value: string; label: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span class="secret">
      <span class="visually-hidden">{label}: </span>
      <code>{shown ? value : '•'.repeat(Math.min(24, Math.max(8, value.length)))}</code>{' '}
      <button type="button" class="small" aria-pressed={shown} onClick={() => setShown(!shown)}>
        {shown ? 'Hide' : 'Reveal'}
        <span class="visually-hidden"> {label}</span>
      </button>{' '}
      <CopyButton text={value} label={`Copy`} />
    </span>
  );
}

/** A command that holds a secret: the secret shows as dots until revealed; Copy copies the whole command. */
export function SecretCommand({
  command,
  secret,
  label,
}: {
  /** Makes the command with the given secret (the real one, or dots). */
  command: (secret: string) => string;
  secret: string;
  /** What the secret is, for the Reveal button: "External key". */
  label: string;
}) {
  const [shown, setShown] = useState(false);
  return (
    <div class="secret-command">
      <pre class="command">
        {command(shown ? secret : '•'.repeat(Math.min(24, Math.max(8, secret.length))))}
      </pre>
      <p class="actions left">
        <button type="button" class="small" aria-pressed={shown} onClick={() => setShown(!shown)}>
          {shown ? 'Hide' : 'Reveal'}
          <span class="visually-hidden"> {label}</span>
        </button>
        <CopyButton text={command(secret)} label="Copy command" />
      </p>
    </div>
  );
}

export function parseJsonObject(text: string): { value?: Record<string, unknown>; error?: string } {
  if (text.trim() === '') return { value: {} };
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      return { error: 'must be a JSON object, like {"room": "lab"}' };
    return { value: v as Record<string, unknown> };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** A JSON text area that says at once when its text is not valid JSON; the form refuses to submit then. */
export function JsonEditor({
  label,
  value,
  onInput,
  validate,
  rows = 6,
  hint,
}: {
  label: string;
  value: string;
  onInput: (text: string) => void;
  /** Returns the error in words, or '' when valid. */
  validate: (text: string) => string;
  rows?: number;
  hint?: string;
}) {
  const id = useId();
  const problem = validate(value);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea
        id={id}
        class="code"
        rows={rows}
        spellcheck={false}
        value={value}
        aria-invalid={problem ? 'true' : 'false'}
        aria-describedby={`${id}-status`}
        onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
      />
      <small id={`${id}-status`} class={problem ? 'error' : 'hint'}>
        {problem ? `Invalid JSON: ${problem}` : (hint ?? 'Valid JSON.')}
      </small>
      {!problem && value.trim() ? (
        <button
          type="button"
          class="small link"
          onClick={() => onInput(JSON.stringify(JSON.parse(value), null, 2))}
        >
          Format JSON
        </button>
      ) : null}
    </div>
  );
}

export function objectValidator(text: string): string {
  return parseJsonObject(text).error ?? '';
}

export function Pager({
  total,
  offset,
  limit,
  onChange,
  label,
  sizes = [10, 25, 50, 100],
}: {
  total: number;
  offset: number;
  limit: number;
  onChange: (offset: number, limit: number) => void;
  label: string;
  sizes?: number[];
}) {
  const pages = Math.max(1, Math.ceil(total / limit));
  const page = Math.floor(offset / limit) + 1;
  const [jump, setJump] = useState(String(page));
  useEffect(() => setJump(String(page)), [page]);
  const sizeId = useId();
  const jumpId = useId();
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <span class="pager-status" role="status">
        {first.toLocaleString()}–{last.toLocaleString()} of {total.toLocaleString()}
      </span>
      {/* The steps stay on one line; the size selector wraps below them on a phone. */}
      <span class="pager-steps">
        <button
          type="button"
          class="small"
          disabled={offset === 0}
          onClick={() => onChange(0, limit)}
          aria-label="First page"
        >
          «
        </button>
        <button
          type="button"
          class="small"
          disabled={offset === 0}
          onClick={() => onChange(Math.max(0, offset - limit), limit)}
          aria-label="Previous page"
        >
          ‹ Previous
        </button>
        <form
          class="pager-jump"
          onSubmit={(e) => {
            e.preventDefault();
            const n = Math.min(pages, Math.max(1, Number.parseInt(jump, 10) || 1));
            onChange((n - 1) * limit, limit);
          }}
        >
          <label for={jumpId}>Page</label>
          <input
            id={jumpId}
            aria-label="Page"
            type="number"
            min={1}
            max={pages}
            value={jump}
            onInput={(e) => setJump((e.target as HTMLInputElement).value)}
          />
          <span>of {pages.toLocaleString()}</span>
        </form>
        <button
          type="button"
          class="small"
          disabled={offset + limit >= total}
          onClick={() => onChange(offset + limit, limit)}
          aria-label="Next page"
        >
          Next ›
        </button>
        <button
          type="button"
          class="small"
          disabled={offset + limit >= total}
          onClick={() => onChange((pages - 1) * limit, limit)}
          aria-label="Last page"
        >
          »
        </button>
      </span>
      <span class="pager-size">
        <label for={sizeId}>Rows</label>
        <select
          id={sizeId}
          value={limit}
          onChange={(e) => onChange(0, Number((e.target as HTMLSelectElement).value))}
        >
          {sizes.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </span>
    </nav>
  );
}

/** Pages of a list held in the browser: previous, "Page n of m", next; nothing when it fits on one page. */
export function StepPager({
  label,
  page,
  pages,
  onPage,
}: {
  label: string;
  /** From 0. */
  page: number;
  pages: number;
  onPage: (page: number) => void;
}) {
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="small" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ‹ Previous
      </button>
      <span>
        Page {page + 1} of {pages}
      </span>
      <button type="button" class="small" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
    </nav>
  );
}

export interface Column<T> {
  key: string;
  label: string;
  sortable?: boolean;
  render: (row: T) => ComponentChildren;
  class?: string;
}

export interface Sort {
  order: string;
  dir: 'asc' | 'desc' | '';
}

/**
 * A table whose rows are reachable with the keyboard: Tab enters the table at the current
 * row, arrow keys / Home / End move between rows, Enter opens the row, Space toggles its
 * checkbox. Sortable headers are buttons and carry aria-sort.
 */
export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  onOpen,
  selected,
  onToggle,
  onToggleAll,
  empty = 'Nothing here yet.',
  busy,
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: Sort;
  onSort?: (order: string) => void;
  onOpen?: (row: T) => void;
  selected?: Set<string>;
  onToggle?: (id: string) => void;
  onToggleAll?: (ids: string[], on: boolean) => void;
  empty?: string;
  busy?: boolean;
}) {
  const [active, setActive] = useState(0);
  const body = useRef<HTMLTableSectionElement>(null);
  const index = Math.min(active, Math.max(0, rows.length - 1));
  const focusRow = (i: number) => {
    const n = Math.max(0, Math.min(rows.length - 1, i));
    setActive(n);
    (body.current?.children[n] as HTMLElement | undefined)?.focus();
  };
  const onKeyDown = (e: TargetedKeyboardEvent<HTMLTableSectionElement>) => {
    const row = (e.target as HTMLElement).closest('tr');
    if (!row || row.parentElement !== body.current) return;
    const i = Array.prototype.indexOf.call(body.current!.children, row) as number;
    const onRow = e.target === row;
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        focusRow(i + 1);
        break;
      case 'ArrowUp':
        e.preventDefault();
        focusRow(i - 1);
        break;
      case 'Home':
        if (!onRow) return;
        e.preventDefault();
        focusRow(0);
        break;
      case 'End':
        if (!onRow) return;
        e.preventDefault();
        focusRow(rows.length - 1);
        break;
      case 'Enter':
        if (onRow && onOpen && rows[i]) {
          e.preventDefault();
          onOpen(rows[i]!);
        }
        break;
      case ' ':
        if (onRow && onToggle && rows[i]) {
          e.preventDefault();
          onToggle(rowKey(rows[i]!));
        }
        break;
    }
  };
  const ids = rows.map(rowKey);
  const allOn = selected ? ids.length > 0 && ids.every((id) => selected.has(id)) : false;
  return (
    <div class="table-wrap" aria-busy={busy ? 'true' : 'false'}>
      <table class="data">
        <caption class="visually-hidden">
          {caption}
          {onOpen ? '. Arrow keys move between rows; Enter opens one.' : ''}
        </caption>
        <thead>
          <tr>
            {selected && onToggle ? (
              <th scope="col" class="select">
                <input
                  type="checkbox"
                  aria-label="Select all rows on this page"
                  checked={allOn}
                  onChange={() => onToggleAll?.(ids, !allOn)}
                />
              </th>
            ) : null}
            {columns.map((c) => {
              const sorted = sort && sort.order === c.key;
              const ariaSort = sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined;
              return (
                <th key={c.key} scope="col" class={c.class} aria-sort={ariaSort}>
                  {c.sortable && onSort ? (
                    <button type="button" class="sort" onClick={() => onSort(c.key)}>
                      {c.label}
                      <span aria-hidden="true">{sorted ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ' ⇅'}</span>
                      <span class="visually-hidden">, sort</span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={body} onKeyDown={onKeyDown}>
          {rows.map((row, i) => {
            const id = rowKey(row);
            return (
              <tr
                key={id}
                tabIndex={i === index ? 0 : -1}
                onFocus={(e) => {
                  if (e.target === e.currentTarget) setActive(i);
                }}
                class={selected?.has(id) ? 'selected' : undefined}
                aria-selected={selected ? selected.has(id) : undefined}
              >
                {selected && onToggle ? (
                  <td class="select">
                    <input
                      type="checkbox"
                      tabIndex={-1}
                      aria-label={`Select row ${i + 1}`}
                      checked={selected.has(id)}
                      onChange={() => onToggle(id)}
                    />
                  </td>
                ) : null}
                {columns.map((c) => (
                  <td key={c.key} data-label={c.label} class={c.class}>
                    {c.render(row)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 && !busy ? <p class="empty">{empty}</p> : null}
    </div>
  );
}

/**
 * A list page's table: its loading and error states, the rows of the page loaded, and
 * the pager under them.
 */
export function PagedTable<P extends { total: number }, T>({
  load,
  what,
  rows,
  page,
  onPage,
  ...table
}: {
  load: ReturnType<typeof useLoad<P>>;
  /** What the rows are, in words: "layouts". */
  what: string;
  rows: (page: P) => T[];
  page: { offset: number; limit: number };
  onPage: (offset: number, limit: number) => void;
  caption: string;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  onOpen?: (row: T) => void;
  empty?: string;
}) {
  return (
    <>
      <ErrorText error={load.error} prefix={`Could not load the ${what}`} />
      {load.loading && !load.data ? <Busy label={`Loading ${what}…`} /> : null}
      {load.data ? (
        <>
          <DataTable<T> {...table} rows={rows(load.data)} busy={load.loading} />
          <Pager
            label={table.caption}
            total={load.data.total}
            offset={page.offset}
            limit={page.limit}
            onChange={onPage}
          />
        </>
      ) : null}
    </>
  );
}

export function download(fileName: string, text: string, type = 'application/x-pem-file'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function formatTime(iso?: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
