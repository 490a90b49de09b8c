/**
 * Progress of long work on stderr (stdout stays clean for JSON): a redrawn bar when
 * stderr is a terminal, otherwise a plain line now and then (`imported 3000/10000`), so
 * logs of scripted runs stay readable.
 */

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Past-tense verb of the plain lines: `imported 3000/10000`. */
  verb?: string;
  /** What is counted, shown by the bar: `things`. */
  unit?: string;
  /** Shortest time between two plain lines, in ms. */
  lineInterval?: number;
  enabled?: boolean;
}

const BAR_REDRAW_MS = 100;
const CLEAR_TO_END = '\x1b[K';

export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastLineDone = -1;
  private drawn = false;
  private readonly tty: boolean;
  private readonly verb: string;
  private readonly unit: string;
  private readonly lineInterval: number;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
    options: ProgressOptions = {},
  ) {
    this.tty = Boolean(stream.isTTY);
    this.verb = options.verb ?? 'imported';
    this.unit = options.unit ?? '';
    this.lineInterval = options.lineInterval ?? 1000;
    this.enabled = options.enabled ?? true;
    // A bar shows up at once; plain lines start after the first interval (no `imported 0/N`).
    this.lastDraw = this.tty ? 0 : this.started;
  }

  update(done: number): void {
    this.done = done;
    if (!this.enabled) return;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw >= BAR_REDRAW_MS || done >= this.total) this.drawBar(now);
    } else if (now - this.lastDraw >= this.lineInterval || done >= this.total) {
      this.writeLine(now);
    }
  }

  /** Ends the display: the bar gets its final state and a newline; a last plain line says where the count ended. */
  finish(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.tty) {
      if (this.drawn) {
        this.drawBar(now);
        this.stream.write('\n');
        this.drawn = false;
      }
    } else if (this.done > 0 && this.lastLineDone !== this.done) {
      this.writeLine(now);
    }
  }

  private writeLine(now: number): void {
    this.lastDraw = now;
    this.lastLineDone = this.done;
    this.stream.write(`${this.verb} ${this.done}/${this.total}\n`);
  }

  private drawBar(now: number): void {
    this.lastDraw = now;
    this.drawn = true;
    const ratio = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta =
      rate > 0 && this.done < this.total ? ` eta ${formatSeconds((this.total - this.done) / rate)}` : '';
    const count = `${this.done}/${this.total}${this.unit ? ` ${this.unit}` : ''}`;
    const stats = ` ${String(Math.floor(ratio * 100)).padStart(3)}% ${count} ${Math.round(rate)}/s${eta}`;
    const columns = this.stream.columns || 80;
    // The bar keeps one width for the whole run: room is kept for the widest stats it will show.
    const widest = ` 100% ${this.total}/${this.total}${this.unit ? ` ${this.unit}` : ''} 9999999/s eta 99h59m`
      .length;
    const width = Math.max(10, Math.min(40, columns - widest - 2));
    const filled = Math.round(ratio * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    // \r back to the start; CLEAR_TO_END wipes what a longer previous line left behind.
    this.stream.write(`${`\r${bar}${stats}`.slice(0, columns)}${CLEAR_TO_END}`);
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
