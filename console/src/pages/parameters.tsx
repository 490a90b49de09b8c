import type { LayoutParameter, ParameterValue } from '@tethys/sdk';
import { useId } from 'preact/hooks';

/**
 * A layout's parameters as name/value rows: what an enrollment group gives every device
 * that enrolls through it. Values are typed by the layout's declarations (a whole
 * number, true or false, or text).
 */

export interface ParameterRow {
  key: number;
  name: string;
  value: string;
}

let nextKey = 1;
export const newRow = (name = '', value = ''): ParameterRow => ({ key: nextKey++, name, value });

/** Rows for the values given, then one empty row for each declared parameter not given. */
export function rowsFor(
  declared: LayoutParameter[] | undefined,
  values: Record<string, unknown> = {},
): ParameterRow[] {
  const rows = Object.entries(values).map(([name, v]) => newRow(name, String(v)));
  for (const p of declared ?? []) if (!(p.name in values)) rows.push(newRow(p.name));
  return rows;
}

/** The parameters the rows give (rows without a name or a value are left out), or what is wrong. */
export function parametersOf(
  rows: ParameterRow[],
  declared: LayoutParameter[] | undefined,
): { value: Record<string, ParameterValue>; error?: string } {
  const value: Record<string, ParameterValue> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (!name || row.value === '') continue;
    if (name in value) return { value, error: `Parameter ${name} is given twice.` };
    const p = declared?.find((d) => d.name === name);
    if (declared && !p) return { value, error: `The layout declares no parameter ${name}.` };
    if (p?.type === 'integer') {
      if (!/^-?[0-9]+$/.test(row.value.trim()))
        return { value, error: `Parameter ${name} must be a whole number.` };
      value[name] = Number(row.value.trim());
    } else if (p?.type === 'boolean') {
      if (row.value !== 'true' && row.value !== 'false')
        return { value, error: `Parameter ${name} must be true or false.` };
      value[name] = row.value === 'true';
    } else {
      value[name] = row.value;
    }
  }
  return { value };
}

function describe(p: LayoutParameter | undefined): string {
  if (!p) return 'not declared by the layout';
  const parts: string[] = [
    p.type === 'integer' ? 'whole number' : p.type === 'boolean' ? 'true or false' : 'text',
  ];
  if (p.required) parts.push('required');
  if (p.pattern) parts.push(`must match ${p.pattern}`);
  if (p.default !== null) parts.push(`default ${String(p.default)}`);
  if (p.device) parts.push('a device may set it');
  return parts.join(' · ');
}

export function ParameterRows({
  rows,
  onChange,
  declared,
  error,
}: {
  rows: ParameterRow[];
  onChange: (rows: ParameterRow[]) => void;
  declared: LayoutParameter[] | undefined;
  error?: string;
}) {
  const id = useId();
  const set = (key: number, patch: Partial<ParameterRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset class="params" aria-describedby={`${id}-help`}>
      <legend>Parameters</legend>
      <p id={`${id}-help`} class="hint">
        Values for the layout's <code>{'{{placeholders}}'}</code>, the same for every device of the group.
        Leave a value empty to leave the parameter out.
      </p>
      <datalist id={`${id}-names`}>
        {(declared ?? []).map((p) => (
          <option key={p.name} value={p.name} />
        ))}
      </datalist>
      {rows.map((row, i) => {
        const p = declared?.find((d) => d.name === row.name.trim());
        const n = i + 1;
        return (
          <div class="param-row" key={row.key}>
            <div class="field">
              <label for={`${id}-n${row.key}`}>Name {n}</label>
              <input
                id={`${id}-n${row.key}`}
                list={`${id}-names`}
                value={row.name}
                autocomplete="off"
                onInput={(e) => set(row.key, { name: (e.target as HTMLInputElement).value })}
              />
            </div>
            <div class="field">
              <label for={`${id}-v${row.key}`}>Value {n}</label>
              {p?.type === 'boolean' ? (
                <select
                  id={`${id}-v${row.key}`}
                  value={row.value}
                  aria-describedby={`${id}-d${row.key}`}
                  onChange={(e) => set(row.key, { value: (e.target as HTMLSelectElement).value })}
                >
                  <option value="">(not set)</option>
                  <option value="true">true</option>
                  <option value="false">false</option>
                </select>
              ) : (
                <input
                  id={`${id}-v${row.key}`}
                  value={row.value}
                  inputMode={p?.type === 'integer' ? 'numeric' : undefined}
                  placeholder={p && p.default !== null ? String(p.default) : undefined}
                  aria-describedby={`${id}-d${row.key}`}
                  onInput={(e) => set(row.key, { value: (e.target as HTMLInputElement).value })}
                />
              )}
            </div>
            <button
              type="button"
              class="small param-remove"
              onClick={() => onChange(rows.filter((r) => r.key !== row.key))}
            >
              Remove<span class="visually-hidden"> parameter {row.name || n}</span>
            </button>
            <small id={`${id}-d${row.key}`} class={p || !row.name.trim() ? 'hint' : 'hint warn-text'}>
              {row.name.trim() ? describe(p) : ''}
            </small>
          </div>
        );
      })}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="button" class="small" onClick={() => onChange([...rows, newRow()])}>
        Add parameter
      </button>
    </fieldset>
  );
}
