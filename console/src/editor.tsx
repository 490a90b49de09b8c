import type { ComponentChildren, Ref } from 'preact';
import { useId, useRef, useState } from 'preact/hooks';

/** A problem the server found at a line of a text (its 400 names "line N"). */
export interface LineProblem {
  line: number;
  column?: number;
  message: string;
}

/**
 * The line of a server message such as "layout sensor-v2 line 12, column 3: expected …":
 * the line, the column when given, and the message after them; null when none is named.
 */
export function lineProblem(message: string): LineProblem | null {
  const m = /\bline (\d+)(?:, column (\d+))?: ([\s\S]*)$/.exec(message);
  if (!m) return null;
  return { line: Number(m[1]), column: m[2] ? Number(m[2]) : undefined, message: m[3]!.trim() };
}

/** Where line `line` (1-based) starts and ends in `text`. */
function lineRange(text: string, line: number): [number, number] {
  const lines = text.split('\n');
  const n = Math.min(Math.max(1, line), lines.length);
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += lines[i]!.length + 1;
  return [start, start + lines[n - 1]!.length];
}

/**
 * A code text area with line numbers. A problem at a line marks that line (its number
 * and a band behind it) and is said under the editor, "Line N: …", with a button that
 * puts the caret on the line.
 */
export function LineEditor({
  label,
  value,
  onInput,
  readOnly = false,
  rows,
  problem,
  hint,
}: {
  label: string;
  value: string;
  onInput?: (text: string) => void;
  readOnly?: boolean;
  /** Default: the text's lines and one more, 8 to 30. */
  rows?: number;
  problem?: LineProblem | null;
  hint?: ComponentChildren;
}) {
  const id = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const count = value.split('\n').length;
  const bad = problem && problem.line >= 1 && problem.line <= count ? problem.line : 0;
  const statusId = `${id}-status`;

  const goTo = () => {
    const ta = area.current;
    if (!ta || !problem) return;
    const [start, end] = lineRange(value, problem.line);
    ta.focus();
    ta.setSelectionRange(start, end);
    const lh = Number.parseFloat(getComputedStyle(ta).lineHeight) || 20;
    ta.scrollTop = Math.max(0, (problem.line - 1) * lh - ta.clientHeight / 3);
  };

  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div
        class={`line-editor${readOnly ? ' read-only' : ''}`}
        style={{ '--gutter': `${String(count).length * 0.55 + 1.3}rem` }}
      >
        <div class="line-gutter" aria-hidden="true" ref={gutter as Ref<HTMLDivElement>}>
          {Array.from({ length: count }, (_, i) => (
            <span key={i} class={i + 1 === bad ? 'line-no line-bad' : 'line-no'}>
              {i + 1}
            </span>
          ))}
        </div>
        <div class="line-area">
          {bad ? (
            <div
              class="line-mark"
              aria-hidden="true"
              style={{ top: `calc(var(--pad) + ${bad - 1} * var(--lh) - ${scroll}px)` }}
            />
          ) : null}
          <textarea
            id={id}
            ref={area}
            class="code"
            rows={rows ?? Math.min(30, Math.max(8, count + 1))}
            wrap="off"
            spellcheck={false}
            autocomplete="off"
            readOnly={readOnly}
            value={value}
            aria-invalid={problem ? 'true' : 'false'}
            aria-describedby={problem || hint ? statusId : undefined}
            onInput={(e) => onInput?.((e.target as HTMLTextAreaElement).value)}
            onScroll={(e) => {
              const top = (e.target as HTMLTextAreaElement).scrollTop;
              if (gutter.current) gutter.current.scrollTop = top;
              setScroll(top);
            }}
          />
        </div>
      </div>
      {problem ? (
        <p class="error line-error" role="alert" id={statusId}>
          <span>
            Line {problem.line}
            {problem.column ? `, column ${problem.column}` : ''}: {problem.message}
          </span>{' '}
          {bad ? (
            <button type="button" class="small" onClick={goTo}>
              Go to line {problem.line}
            </button>
          ) : null}
        </p>
      ) : hint ? (
        <small id={statusId} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}
