/**
 * JSON Lines interchange with google-research/bert's feature names, padded as the original pads
 * its tf.train.Examples: input_ids / input_mask / segment_ids to max_seq_length with 0,
 * masked_lm_positions / masked_lm_ids to max_predictions_per_seq with 0, masked_lm_weights with 0.0.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { basename, dirname, join } from 'node:path';
import { BertError } from '../errors.ts';
import { fsyncDir } from '../io/atomic.ts';
import { oneLine } from '../io/json-text.ts';
import { LIMITS } from '../limits.ts';
import { decodeExample, encodeExample, recordLayout, type PretrainingExample, type RecordBlocks, type RecordLayout } from './records.ts';

export interface BertJsonlExample {
  input_ids: number[];
  input_mask: number[];
  segment_ids: number[];
  masked_lm_positions: number[];
  masked_lm_ids: number[];
  masked_lm_weights: number[];
  next_sentence_labels: number[];
}

export function toJsonlExample(ex: PretrainingExample, S: number, P: number): BertJsonlExample {
  const n = ex.input_ids.length;
  const p = ex.masked_lm_positions.length;
  const pad = (xs: ArrayLike<number>, len: number): number[] => {
    const out = new Array<number>(len).fill(0);
    for (let i = 0; i < xs.length; i++) out[i] = xs[i]!;
    return out;
  };
  return {
    input_ids: pad(ex.input_ids, S),
    input_mask: pad(new Array<number>(n).fill(1), S),
    segment_ids: pad(ex.segment_ids, S),
    masked_lm_positions: pad(ex.masked_lm_positions, P),
    masked_lm_ids: pad(ex.masked_lm_ids, P),
    masked_lm_weights: pad(new Array<number>(p).fill(1), P),
    next_sentence_labels: [ex.next_sentence_label],
  };
}

/** Writes examples to a temp file beside `path`, renamed into place by finish(). */
export class JsonlWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private count = 0;

  constructor(
    readonly path: string,
    readonly layout: RecordLayout,
  ) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (err) {
      throw new BertError(`cannot write output: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
    }
  }

  write(records: RecordBlocks, order: ArrayLike<number>): void {
    const S = this.layout.max_seq_length;
    const P = this.layout.max_predictions_per_seq;
    const lines: string[] = [];
    for (let k = 0; k < order.length; k++) {
      const { buf, offset } = records.locate(order[k]!);
      const ex = decodeExample(this.layout, buf, offset);
      lines.push(JSON.stringify(toJsonlExample(ex, S, P)));
      if (lines.length === 4096 || k === order.length - 1) {
        const buf = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
        let off = 0;
        while (off < buf.length) off += writeSync(this.fd as number, buf, off, buf.length - off);
        lines.length = 0;
      }
    }
    this.count += order.length;
  }

  finish(): number {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    renameSync(this.tmp, this.path);
    fsyncDir(dirname(this.path));
    return this.count;
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}

const FIELDS = [
  'input_ids',
  'input_mask',
  'segment_ids',
  'masked_lm_positions',
  'masked_lm_ids',
  'masked_lm_weights',
  'next_sentence_labels',
] as const;

/**
 * Parses and validates a BERT JSONL file into records (uint32 ids). Every line must have every
 * field, with lengths fixed by the first line; input_mask must be ones then zeros; real predictions
 * (weight 1) come first, at positions inside the mask. Any violation names file:line.
 */
export function readJsonlRecords(path: string): { layout: RecordLayout; records: Buffer; size: number; max_id: number } {
  let layout: RecordLayout | undefined;
  let records = Buffer.alloc(0);
  let size = 0;
  let max_id = 0;
  for (const [li, line] of fileLines(path)) {
    const raw = line.trim();
    if (!raw) continue;
    const where = `${path}:${li}`;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      throw new BertError(`not valid JSON (${oneLine((err as Error).message)})`, where);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new BertError('expected one JSON object per line', where);
    for (const f of FIELDS) {
      const v = obj[f];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new BertError(`field "${f}" must be an array of numbers`, where);
      }
    }
    const ex = obj as unknown as BertJsonlExample;
    if (layout === undefined) {
      try {
        layout = recordLayout(ex.input_ids.length, ex.masked_lm_positions.length, 'uint32');
      } catch (err) {
        throw new BertError((err as Error).message, where);
      }
    }
    const S = layout.max_seq_length;
    const P = layout.max_predictions_per_seq;
    const expect: Record<(typeof FIELDS)[number], number> = {
      input_ids: S,
      input_mask: S,
      segment_ids: S,
      masked_lm_positions: P,
      masked_lm_ids: P,
      masked_lm_weights: P,
      next_sentence_labels: 1,
    };
    for (const f of FIELDS) {
      if (ex[f].length !== expect[f]) {
        throw new BertError(`field "${f}" has length ${ex[f].length}, expected ${expect[f]} (as the file's first example)`, where);
      }
    }
    const n = prefixOfOnes(ex.input_mask, 'input_mask', where);
    const p = prefixOfOnes(ex.masked_lm_weights, 'masked_lm_weights', where);
    const label = ex.next_sentence_labels[0];
    if (label !== 0 && label !== 1) throw new BertError(`next_sentence_labels must be [0] or [1], got [${label}]`, where);
    for (let i = 0; i < S; i++) {
      const id = ex.input_ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new BertError(`input_ids[${i}] = ${id} is not a token id`, where);
      if (id > max_id) max_id = id;
      const s = ex.segment_ids[i];
      if (s !== 0 && s !== 1) throw new BertError(`segment_ids[${i}] = ${s}, expected 0 or 1`, where);
    }
    for (let k = 0; k < p; k++) {
      const pos = ex.masked_lm_positions[k]!;
      if (!Number.isInteger(pos) || pos < 0 || pos >= n) {
        throw new BertError(`masked_lm_positions[${k}] = ${pos} is outside the ${n} real tokens`, where);
      }
      const id = ex.masked_lm_ids[k]!;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new BertError(`masked_lm_ids[${k}] = ${id} is not a token id`, where);
      if (id > max_id) max_id = id;
    }
    const rb = layout.record_bytes;
    if ((size + 1) * rb > records.length) {
      const grown = Buffer.alloc(Math.max(rb * 1024, records.length * 2));
      records.copy(grown);
      records = grown;
    }
    encodeExample(
      layout,
      {
        input_ids: ex.input_ids.slice(0, n),
        segment_ids: ex.segment_ids.slice(0, n),
        masked_lm_positions: ex.masked_lm_positions.slice(0, p),
        masked_lm_ids: ex.masked_lm_ids.slice(0, p),
        next_sentence_label: label,
      },
      records,
      size * rb,
    );
    size++;
  }
  if (layout === undefined) throw new BertError('no examples in file', path);
  return { layout, records: records.subarray(0, size * layout.record_bytes), size, max_id };
}

/** Length of the leading run of 1s, checking the rest is 0s (the original format's padding). */
function prefixOfOnes(xs: number[], field: string, where: string): number {
  let n = 0;
  while (n < xs.length && xs[n] === 1) n++;
  for (let i = n; i < xs.length; i++) {
    if (xs[i] !== 0) throw new BertError(`${field}[${i}] = ${xs[i]}: expected ones followed by zeros`, where);
  }
  return n;
}

/** [line number, line] pairs of a UTF-8 file, read in blocks (a file can exceed V8's string limit). */
function* fileLines(path: string): Generator<[number, string]> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new BertError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
  }
  try {
    const block = Buffer.allocUnsafe(1 << 22);
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let lineNo = 0;
    for (;;) {
      const got = readSync(fd, block, 0, block.length, null);
      if (got === 0) break;
      const text = carry + decoder.write(block.subarray(0, got));
      const tooLong = (): never => {
        throw new BertError(`line is longer than the limit of ${LIMITS.jsonlLineChars} characters`, `${path}:${lineNo + 1}`);
      };
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        if (nl - start > LIMITS.jsonlLineChars) tooLong();
        yield [++lineNo, text.slice(start, nl)];
        start = nl + 1;
      }
      carry = text.slice(start);
      if (carry.length > LIMITS.jsonlLineChars) tooLong();
    }
    const last = carry + decoder.end();
    if (last) yield [++lineNo, last];
  } finally {
    closeSync(fd);
  }
}
