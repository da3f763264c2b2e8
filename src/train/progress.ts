// Training progress: a bar with ETA and live numbers on a terminal, a plain line every few seconds
// elsewhere (CI logs, `> file`). The JSON Lines log is jsonl-log.ts.
import cliProgress from 'cli-progress';

/** One number shown on the bar: `key` in the values passed to `update`, shown as `label value`. */
export interface ProgressField {
  key: string;
  label: string;
  /** fixed: 4 decimals; percent: 0.8123 -> 81.2%; exp: 1.00e-4; int: thousands grouped. */
  style: 'fixed' | 'percent' | 'exp' | 'int';
}

/** Pre-training's fields, in the order the issue lists them. */
export const PRETRAIN_FIELDS: ProgressField[] = [
  { key: 'loss', label: 'loss', style: 'fixed' },
  { key: 'mlm_accuracy', label: 'mlm acc', style: 'percent' },
  { key: 'nsp_accuracy', label: 'nsp acc', style: 'percent' },
  { key: 'lr', label: 'lr', style: 'exp' },
  { key: 'tokens_per_second', label: 'tok/s', style: 'int' },
];

export function formatField(style: ProgressField['style'], x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return x === undefined ? '-' : String(x);
  switch (style) {
    case 'fixed':
      return x.toFixed(4);
    case 'percent':
      return `${(100 * x).toFixed(1)}%`;
    case 'exp':
      return x.toExponential(2);
    case 'int':
      return Math.round(x).toLocaleString('en-US');
  }
}

/** Seconds as 1h02m, 3m05s or 42s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export interface ProgressOptions {
  /** Step count at which the run ends. */
  total: number;
  /** First step of this run (a resumed run starts past 0; ETA counts only steps run here). */
  start?: number;
  /** Shown before the bar or line, e.g. "pretrain". */
  label?: string;
  fields?: ProgressField[];
  /** Where to write; stderr by default, so stdout stays for results. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Bar (true) or periodic lines (false); defaults to whether `stream` is a terminal. */
  tty?: boolean;
  /** Off a terminal, at most one line per this many seconds (the last step always gets one). */
  intervalSeconds?: number;
  /** Clock in milliseconds; tests pass a fake one. */
  now?: () => number;
}

/** A bar on a terminal, otherwise a line every `intervalSeconds`. Call `update` after each step. */
export class ProgressReporter {
  private readonly fields: ProgressField[];
  private readonly stream: NodeJS.WritableStream;
  private readonly now: () => number;
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly startStep: number;
  private readonly startTime: number;
  private lastLine = -Infinity;
  private lastStep: number;
  private stopped = false;

  constructor(private readonly opts: ProgressOptions) {
    this.fields = opts.fields ?? PRETRAIN_FIELDS;
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => performance.now());
    this.startStep = opts.start ?? 0;
    this.lastStep = this.startStep;
    this.startTime = this.now();
    const tty = opts.tty ?? (opts.stream ?? process.stderr).isTTY === true;
    if (tty) {
      const fields = this.fields.map((f) => `${f.label} {${f.key}}`).join(' | ');
      this.bar = new cliProgress.SingleBar(
        {
          format: `${opts.label ?? 'training'} [{bar}] {value}/{total} | ETA {eta_formatted} | ${fields}`,
          stream: this.stream as NodeJS.WriteStream,
          barsize: 24,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total, this.startStep, this.payload({}));
    }
  }

  /** Reports that `step` steps are done, with the numbers to show (missing ones show as '-'). */
  update(step: number, values: Record<string, number | undefined>): void {
    if (this.stopped) return;
    this.lastStep = step;
    if (this.bar) {
      this.bar.update(step, this.payload(values));
      return;
    }
    const t = this.now();
    if (step < this.opts.total && (t - this.lastLine) / 1000 < (this.opts.intervalSeconds ?? 10)) return;
    this.lastLine = t;
    this.stream.write(`${this.line(step, values, t)}\n`);
  }

  /** The plain line for `step`: "pretrain step 120/1000 (12.0%) | loss 3.2101 | ... | 1m02s, ETA 8m10s". */
  line(step: number, values: Record<string, number | undefined>, t = this.now()): string {
    const { total } = this.opts;
    const elapsed = (t - this.startTime) / 1000;
    const done = step - this.startStep;
    const eta = done > 0 ? (elapsed / done) * (total - step) : NaN;
    const parts = [`${this.opts.label ?? 'training'} step ${step}/${total} (${((100 * step) / total).toFixed(1)}%)`];
    for (const f of this.fields) parts.push(`${f.label} ${formatField(f.style, values[f.key])}`);
    parts.push(`${formatDuration(elapsed)}, ETA ${step >= total ? '0s' : formatDuration(eta)}`);
    return parts.join(' | ');
  }

  /** Ends the bar (leaving it on screen) or prints the last line if it was not printed. */
  stop(values: Record<string, number | undefined> = {}): void {
    if (this.stopped) return;
    if (this.bar) {
      this.bar.stop();
    } else if (this.lastLine === -Infinity || this.lastStep < this.opts.total) {
      this.stream.write(`${this.line(this.lastStep, values)}\n`);
    }
    this.stopped = true;
  }

  private payload(values: Record<string, number | undefined>): Record<string, string> {
    return Object.fromEntries(this.fields.map((f) => [f.key, formatField(f.style, values[f.key])]));
  }
}
