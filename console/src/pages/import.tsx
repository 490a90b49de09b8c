import type { Thing } from '@tethys/sdk';
import { useRef, useState } from 'preact/hooks';
import { api, type EntityKind } from '../api.ts';
import { COLUMNS, ImportFileError, type ImportRow, readImport } from '../importing.ts';
import { Dialog, download, ErrorText, errorMessage, Field, Notice, ProgressBar, StepPager } from '../ui.tsx';
import { SINGULAR, TITLE } from './forms.tsx';

interface RowResult {
  status: 'pending' | 'created' | 'failed' | 'invalid' | 'not sent';
  id?: string;
  key?: string;
  message?: string;
}

const RESULTS_PAGE = 50;

/**
 * Import from a CSV or JSON file: rows are checked in the browser first, then sent to
 * POST /<kind>/bulk batch by batch. The server creates a batch all or nothing, so one bad
 * row fails its whole batch; the import goes on with the next batch and every row gets
 * its own result.
 */
export function ImportDialog({
  kind,
  onClose,
  onDone,
}: {
  kind: EntityKind;
  onClose: () => void;
  onDone: () => void;
}) {
  const [fileName, setFileName] = useState('');
  const [rows, setRows] = useState<ImportRow[] | null>(null);
  const [fileError, setFileError] = useState<unknown>(null);
  const [batchSize, setBatchSize] = useState(100);
  const [phase, setPhase] = useState<'choose' | 'running' | 'done'>('choose');
  const [done, setDone] = useState(0);
  const [, setVersion] = useState(0);
  const [view, setView] = useState<'all' | 'problems'>('all');
  const [page, setPage] = useState(0);
  const results = useRef<RowResult[]>([]);
  const stop = useRef(false);
  const [stopping, setStopping] = useState(false);
  const columns = COLUMNS[kind].join(',');

  const choose = async (file: File | undefined) => {
    setRows(null);
    setFileError(null);
    setFileName(file?.name ?? '');
    if (!file) return;
    try {
      const parsed = readImport(await file.text(), file.name, kind);
      setRows(parsed);
    } catch (err) {
      setFileError(
        err instanceof ImportFileError ? err : new Error(`The file cannot be read: ${errorMessage(err)}`),
      );
    }
  };

  const start = async () => {
    if (!rows) return;
    const res: RowResult[] = rows.map((r) =>
      r.invalid ? { status: 'invalid', message: r.invalid } : { status: 'pending' },
    );
    results.current = res;
    stop.current = false;
    setStopping(false);
    setPhase('running');
    setDone(rows.filter((r) => r.invalid).length);
    const valid = rows.map((r, i) => ({ r, i })).filter((x) => !x.r.invalid);
    let processed = rows.length - valid.length;
    for (let b = 0; b < valid.length; b += batchSize) {
      const batch = valid.slice(b, b + batchSize);
      if (stop.current) {
        for (const { i } of batch)
          res[i] = { status: 'not sent', message: 'import stopped before this batch' };
      } else {
        try {
          const created = await api()[kind].createMany(batch.map(({ r }) => r.entity));
          batch.forEach(({ i }, n) => {
            const c = created[n] as Thing | undefined;
            res[i] = c
              ? { status: 'created', id: c.id, key: c.key }
              : { status: 'failed', message: 'the server did not return this row' };
          });
        } catch (err) {
          const first = batch[0]!.r.row;
          const last = batch[batch.length - 1]!.r.row;
          const message = `batch of rows ${first}–${last} refused, nothing in it was created: ${errorMessage(err)}`;
          for (const { i } of batch) res[i] = { status: 'failed', message };
        }
      }
      processed += batch.length;
      setDone(processed);
      setVersion((v) => v + 1);
    }
    setPhase('done');
    onDone();
  };

  const all = results.current;
  const counts = { created: 0, failed: 0, invalid: 0, notSent: 0 };
  for (const r of all) {
    if (r.status === 'created') counts.created++;
    else if (r.status === 'failed') counts.failed++;
    else if (r.status === 'invalid') counts.invalid++;
    else if (r.status === 'not sent') counts.notSent++;
  }
  const shown = all
    .map((r, i) => ({ r, row: rows?.[i] }))
    .filter((x) => view === 'all' || (x.r.status !== 'created' && x.r.status !== 'pending'));
  const pages = Math.max(1, Math.ceil(shown.length / RESULTS_PAGE));
  const visible = shown.slice(page * RESULTS_PAGE, (page + 1) * RESULTS_PAGE);
  const invalidBefore = rows?.filter((r) => r.invalid).length ?? 0;

  const exportResults = () => {
    const q = (s: string | number | undefined) => {
      const v = String(s ?? '');
      return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
    };
    const lines = ['row,line,name,status,id,key,message'];
    all.forEach((r, i) => {
      const row = rows?.[i];
      lines.push([row?.row, row?.line, row?.entity.name, r.status, r.id, r.key, r.message].map(q).join(','));
    });
    download(`${kind}-import-results.csv`, `${lines.join('\n')}\n`, 'text/csv');
  };

  return (
    <Dialog title={`Import ${kind}`} onClose={onClose} closable={phase !== 'running'} wide>
      {phase === 'choose' ? (
        <>
          <p>
            A <strong>CSV</strong> file whose first line names the columns (<code>{columns}</code>
            {kind === 'things' ? '; key and metadata may be left empty; ' : '; metadata may be left empty; '}
            metadata is a JSON object in a quoted field), or a <strong>JSON</strong> array of objects with
            those fields.
          </p>
          <pre class="example">
            {kind === 'things'
              ? 'name,key,metadata\nsensor-1,,"{""room"":""lab""}"\nsensor-2,my-own-key,'
              : 'name,metadata\nalarms,"{""type"":""data""}"'}
          </pre>
          <Field label="File to import (.csv or .json)">
            {(id) => (
              <input
                id={id}
                type="file"
                accept=".csv,.json,text/csv,application/json"
                onChange={(e) => choose((e.target as HTMLInputElement).files?.[0])}
              />
            )}
          </Field>
          <ErrorText error={fileError} prefix={fileName} />
          {rows ? (
            <Notice kind={invalidBefore ? 'warn' : 'ok'}>
              {fileName}: {rows.length.toLocaleString()} row{rows.length === 1 ? '' : 's'} read
              {invalidBefore
                ? `, ${invalidBefore.toLocaleString()} of them invalid (they will not be sent; see the results)`
                : ''}
              .
            </Notice>
          ) : null}
          <Field
            label="Rows per batch"
            hint={`The server creates each batch all or nothing: if one ${SINGULAR[kind]} in a batch is refused (its key is already in use, say), none of that batch is created. Smaller batches hold back fewer rows when one is bad.`}
          >
            {(id, hint) => (
              <input
                id={id}
                type="number"
                min={1}
                max={1000}
                value={batchSize}
                aria-describedby={hint}
                onInput={(e) =>
                  setBatchSize(Math.max(1, Math.min(1000, Number((e.target as HTMLInputElement).value) || 1)))
                }
              />
            )}
          </Field>
          <div class="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              class="primary"
              disabled={!rows || rows.length === invalidBefore}
              onClick={start}
            >
              Import {rows ? (rows.length - invalidBefore).toLocaleString() : ''} {kind}
            </button>
          </div>
        </>
      ) : (
        <>
          <ProgressBar
            label={
              phase === 'running'
                ? stopping
                  ? 'Stopping after this batch…'
                  : `Importing ${kind}…`
                : 'Import finished'
            }
            value={done}
            max={rows?.length ?? 0}
          />
          <p class="import-summary" role="status">
            {counts.created.toLocaleString()} created, {counts.failed.toLocaleString()} failed,{' '}
            {counts.invalid.toLocaleString()} invalid
            {counts.notSent ? `, ${counts.notSent.toLocaleString()} not sent` : ''}.
          </p>
          <p class="muted small-text">
            Batches of {batchSize} rows; the server creates each batch all or nothing, so a failed batch marks
            all its rows failed.
          </p>
          <div class="actions left">
            <fieldset class="segmented">
              <legend class="visually-hidden">Rows to show</legend>
              <label>
                <input
                  type="radio"
                  name="import-view"
                  checked={view === 'all'}
                  onChange={() => {
                    setView('all');
                    setPage(0);
                  }}
                />{' '}
                All rows
              </label>
              <label>
                <input
                  type="radio"
                  name="import-view"
                  checked={view === 'problems'}
                  onChange={() => {
                    setView('problems');
                    setPage(0);
                  }}
                />{' '}
                Only problems
              </label>
            </fieldset>
            <button type="button" class="small" onClick={exportResults} disabled={phase === 'running'}>
              Download results (CSV)
            </button>
          </div>
          <div class="table-wrap results">
            <table class="data">
              <caption class="visually-hidden">Result of each imported row</caption>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Name</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {visible.map(({ r, row }) => (
                  <tr key={row?.row} class={`result-${r.status.replace(' ', '-')}`}>
                    <td data-label="Row">
                      {row?.row}
                      {row?.line !== undefined ? <span class="muted"> (line {row.line})</span> : null}
                    </td>
                    <td data-label="Name">{row?.entity.name || <span class="muted">—</span>}</td>
                    <td data-label="Result">
                      {r.status === 'created' ? (
                        <>
                          created <a href={`#/${kind}/${r.id}`}>{r.id}</a>
                        </>
                      ) : r.status === 'pending' ? (
                        <span class="muted">waiting</span>
                      ) : (
                        <span class="error">
                          {r.status}: {r.message}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <StepPager label="Result" page={page} pages={pages} onPage={setPage} />
          <div class="actions">
            {phase === 'running' ? (
              <button
                type="button"
                disabled={stopping}
                onClick={() => {
                  stop.current = true;
                  setStopping(true);
                }}
              >
                Stop after this batch
              </button>
            ) : (
              <button type="button" class="primary" onClick={onClose}>
                Close
              </button>
            )}
          </div>
        </>
      )}
      {phase === 'done' && counts.created === 0 && counts.failed > 0 ? (
        <ErrorText
          error={
            new Error(`No ${SINGULAR[kind]} was created. ${TITLE[kind]} rows failed; see the results above.`)
          }
        />
      ) : null}
    </Dialog>
  );
}
