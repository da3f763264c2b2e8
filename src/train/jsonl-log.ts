// The `--log` file: JSON Lines, one object per optimizer step, written as each step ends and read
// back for plots and tests; a resumed run drops the lines of the steps it redoes.
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';

/** One step's record in the `--log` file (pre-training's keys; fine-tuning may add its own). */
export interface LogRecord {
  step: number;
  [key: string]: number | string | null | undefined;
}

/**
 * Appends one JSON object per line to a file. Each line goes to the kernel in one write as it is
 * made, so a killed process keeps every line it reported; nothing is buffered in the process.
 */
export class JsonlLog {
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Opens `path` for appending. With `keepThroughStep` (a resumed run), lines of later steps are
   * dropped first: the run redoes those steps and logs them again.
   */
  static open(path: string, opts: { keepThroughStep?: number } = {}): JsonlLog {
    try {
      if (opts.keepThroughStep !== undefined && existsSync(path)) {
        const kept = readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '' && lineStep(line) <= opts.keepThroughStep!);
        writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
      }
      return new JsonlLog(path, openSync(path, 'a'));
    } catch (err) {
      if (err instanceof BertError) throw err;
      throw new BertError(`cannot open log file: ${(err as Error).message}`, path);
    }
  }

  write(record: LogRecord): void {
    if (this.fd === undefined) throw new BertError('log file is closed', this.path);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

// A line cut short by a kill has no step to read: drop it (it sorts after every step kept).
function lineStep(line: string): number {
  try {
    const step = (JSON.parse(line) as { step?: unknown }).step;
    return typeof step === 'number' ? step : Infinity;
  } catch {
    return Infinity;
  }
}

/** Reads a `--log` file back (for plots and tests); a torn last line (a kill mid-write) is skipped. */
export function readJsonlLog(path: string): LogRecord[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const out: LogRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch (err) {
      if (i === lines.length - 1) break;
      throw new BertError(`not a JSON object: ${(err as Error).message}`, `${path}:${i + 1}`);
    }
  }
  return out;
}
