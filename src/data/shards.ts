/**
 * Binary shards: `shard-00000.bin`, ... each a run of fixed-size records (see records.ts), and
 * `index.json` describing them. Reading example k is one pread at a computed offset: no parsing.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS, LIMITS } from '../limits.ts';
import { checkRecord, emptyBatch, fillBatchRow, recordLayout, type IdDtype, type PretrainingBatch, type RecordBlocks, type RecordLayout } from './records.ts';

export const SHARD_FORMAT = 'bert-ts-pretraining-shards';

export interface ShardIndex {
  format: typeof SHARD_FORMAT;
  version: 1;
  max_seq_length: number;
  max_predictions_per_seq: number;
  vocab_size: number;
  dtype: IdDtype;
  record_bytes: number;
  num_examples: number;
  shards: Array<{ file: string; num_examples: number }>;
  /** How the data was made (options, tokenizer, counts); informative only. */
  meta: Record<string, unknown>;
}

const SHARD_NAME = /^shard-\d{5}\.bin$/;

/** Streams records into shards of at most `shard_examples` records; index.json is written last. */
export class ShardWriter {
  readonly layout: RecordLayout;
  private readonly shards: Array<{ file: string; num_examples: number }> = [];
  private fd: number | undefined;
  private inShard = 0;
  private total = 0;

  constructor(
    readonly dir: string,
    layout: RecordLayout,
    readonly vocab_size: number,
    readonly shard_examples = 65536,
  ) {
    this.layout = layout;
    prepareOutputDir(dir);
  }

  /** Appends the records of `records` in the order `order` (indices of records). */
  write(records: RecordBlocks, order: ArrayLike<number>): void {
    const rb = this.layout.record_bytes;
    const out = Buffer.allocUnsafe(Math.min(4096, this.shard_examples) * rb);
    let k = 0;
    while (k < order.length) {
      if (this.fd === undefined || this.inShard === this.shard_examples) this.nextShard();
      const take = Math.min(order.length - k, this.shard_examples - this.inShard, 4096);
      for (let t = 0; t < take; t++) {
        const { buf, offset } = records.locate(order[k + t]!);
        buf.copy(out, t * rb, offset, offset + rb);
      }
      let off = 0;
      while (off < take * rb) off += writeSync(this.fd as number, out, off, take * rb - off);
      this.inShard += take;
      this.shards[this.shards.length - 1]!.num_examples += take;
      this.total += take;
      k += take;
    }
  }

  finish(meta: Record<string, unknown>): ShardIndex {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const index: ShardIndex = {
      format: SHARD_FORMAT,
      version: 1,
      max_seq_length: this.layout.max_seq_length,
      max_predictions_per_seq: this.layout.max_predictions_per_seq,
      vocab_size: this.vocab_size,
      dtype: this.layout.dtype,
      record_bytes: this.layout.record_bytes,
      num_examples: this.total,
      shards: this.shards,
      meta,
    };
    writeFileAtomic(join(this.dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
    return index;
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    for (const s of this.shards) rmSync(join(this.dir, s.file), { force: true });
  }

  private nextShard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    const file = `shard-${String(this.shards.length).padStart(5, '0')}.bin`;
    this.fd = openSync(join(this.dir, file), 'w');
    this.shards.push({ file, num_examples: 0 });
    this.inShard = 0;
  }
}

/** Makes `dir` ready for new shards: creates it, or clears old shards; refuses a folder of other files. */
function prepareOutputDir(dir: string): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    return;
  }
  const entries = readdirSync(dir);
  const foreign = entries.filter((f) => !SHARD_NAME.test(f) && f !== 'index.json');
  if (foreign.length > 0) {
    throw new BertError(`output folder holds other files (${foreign.slice(0, 3).join(', ')}); choose an empty or new folder`, dir);
  }
  // The index goes first so a crash mid-cleanup never leaves an index naming missing shards.
  rmSync(join(dir, 'index.json'), { force: true });
  for (const f of entries) if (SHARD_NAME.test(f)) rmSync(join(dir, f));
}

export function readShardIndex(dir: string): ShardIndex {
  const path = join(dir, 'index.json');
  const index = readJsonFile(path, 'shard index', FILE_LIMITS['index.json']) as ShardIndex | null;
  if (index === null || typeof index !== 'object' || index.format !== SHARD_FORMAT || index.version !== 1) {
    throw new BertError(`not a ${SHARD_FORMAT} v1 index (format ${JSON.stringify(index?.format)})`, path);
  }
  if (index.dtype !== 'uint16' && index.dtype !== 'uint32') throw new BertError(`dtype must be uint16 or uint32, got ${JSON.stringify(index.dtype)}`, path);
  let layout: RecordLayout;
  try {
    layout = recordLayout(index.max_seq_length, index.max_predictions_per_seq, index.dtype);
  } catch (err) {
    throw new BertError((err as Error).message, path);
  }
  if (layout.record_bytes !== index.record_bytes) {
    throw new BertError(`record_bytes ${index.record_bytes} does not match the layout (${layout.record_bytes})`, path);
  }
  const max = index.dtype === 'uint16' ? 65536 : 2 ** 32;
  if (!Number.isInteger(index.vocab_size) || index.vocab_size < 1 || index.vocab_size > max) throw new BertError(`vocab_size must be an integer in [1, ${max}], got ${JSON.stringify(index.vocab_size)}`, path);
  if (!Array.isArray(index.shards) || index.shards.length > LIMITS.shards) {
    throw new BertError(`shards must be a list of at most ${LIMITS.shards}`, path);
  }
  let total = 0;
  for (const s of index.shards) {
    // Shard files are named by the writer; any other name (a path out of the folder) is refused.
    if (s === null || typeof s !== 'object' || typeof s.file !== 'string' || !SHARD_NAME.test(s.file)) {
      throw new BertError(`shard ${JSON.stringify(s)} is not {file: "shard-NNNNN.bin", num_examples}`, path);
    }
    if (!Number.isSafeInteger(s.num_examples) || s.num_examples < 0) throw new BertError(`${s.file}: num_examples must be a non-negative integer, got ${JSON.stringify(s.num_examples)}`, path);
    total += s.num_examples;
  }
  if (index.num_examples !== total) throw new BertError(`num_examples ${JSON.stringify(index.num_examples)} is not the shards' sum (${total})`, path);
  return index;
}

/** Random access to shard records through positioned reads; holds one file descriptor per shard. */
export class ShardReader {
  readonly index: ShardIndex;
  readonly layout: RecordLayout;
  private readonly fds: number[];
  private readonly firstExample: number[];
  private readonly scratch: Buffer;

  constructor(readonly dir: string) {
    this.index = readShardIndex(dir);
    this.layout = recordLayout(this.index.max_seq_length, this.index.max_predictions_per_seq, this.index.dtype);
    this.firstExample = [];
    let n = 0;
    for (const s of this.index.shards) {
      this.firstExample.push(n);
      n += s.num_examples;
    }
    this.fds = [];
    try {
      for (const s of this.index.shards) this.fds.push(openShard(join(dir, s.file), s.num_examples * this.layout.record_bytes));
    } catch (err) {
      this.close();
      throw err;
    }
    this.scratch = Buffer.alloc(this.layout.record_bytes);
  }

  get size(): number {
    return this.index.num_examples;
  }

  /** Reads record `k` into `into` at `offset`. */
  readRecord(k: number, into: Buffer, offset: number): void {
    if (!(k >= 0 && k < this.size && Number.isInteger(k))) throw new RangeError(`example index ${k} out of range [0, ${this.size})`);
    let s = upperBound(this.firstExample, k) - 1;
    if (s < 0) s = 0;
    const rb = this.layout.record_bytes;
    const record = k - this.firstExample[s]!;
    const got = readSync(this.fds[s]!, into, offset, rb, record * rb);
    const where = join(this.dir, this.index.shards[s]!.file);
    if (got !== rb) throw new BertError(`shard is truncated (record ${record})`, where);
    const bad = checkRecord(this.layout, into, offset, this.index.vocab_size);
    if (bad !== undefined) throw new BertError(`record ${record} is corrupt: ${bad}`, where);
  }

  batch(indices: readonly number[]): PretrainingBatch {
    const batch = emptyBatch(this.layout, indices.length);
    indices.forEach((k, b) => {
      this.readRecord(k, this.scratch, 0);
      fillBatchRow(this.layout, this.scratch, 0, batch, b);
    });
    return batch;
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}

/** Opens a shard and checks it holds exactly `bytes` (its records as the index counts them). */
function openShard(path: string, bytes: number): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new BertError(`cannot open shard: ${(err as NodeJS.ErrnoException).code}`, path);
  }
  const size = fstatSync(fd).size;
  if (size !== bytes) {
    closeSync(fd);
    throw new BertError(`shard is ${size} bytes, the index says ${bytes}`, path);
  }
  return fd;
}

function upperBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
