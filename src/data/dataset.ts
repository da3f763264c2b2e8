/** The training loop's view of pre-training data: a shard folder or a BERT JSONL file. */
import { statSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { readJsonlRecords } from './jsonl.ts';
import { emptyBatch, fillBatchRow, type PretrainingBatch, type RecordLayout } from './records.ts';
import { ShardReader } from './shards.ts';

// epochOrder lives in random.ts (no file access, so the browser build can use it).
export { epochOrder } from './random.ts';

export interface PretrainingDataset {
  readonly path: string;
  readonly size: number;
  readonly maxSeqLength: number;
  readonly maxPredictionsPerSeq: number;
  /** From the shard index; for JSONL (which does not record it) the largest id seen plus one. */
  readonly vocabSize: number;
  /** Examples `indices` (in that order) as one batch of flat tensors. */
  batch(indices: readonly number[]): PretrainingBatch;
  /** How a worker thread can open the same data without re-reading it. */
  readonly source: DatasetSource;
  close(): void;
}

/** Structured-clonable description of a dataset (JSONL records travel as shared memory). */
export type DatasetSource =
  | { kind: 'shards'; dir: string }
  | { kind: 'records'; path: string; layout: RecordLayout; records: SharedArrayBuffer; size: number; vocab_size: number };

export function openPretrainingData(path: string): PretrainingDataset {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new BertError(`cannot open pre-training data: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, path);
  }
  if (isDir) return shardDataset(path);
  const { layout, records, size, max_id } = readJsonlRecords(path);
  const shared = new SharedArrayBuffer(records.length);
  Buffer.from(shared).set(records);
  return openSource({ kind: 'records', path, layout, records: shared, size, vocab_size: max_id + 1 });
}

export function openSource(source: DatasetSource): PretrainingDataset {
  if (source.kind === 'shards') return shardDataset(source.dir);
  const { layout, size, path } = source;
  const records = Buffer.from(source.records);
  return {
    path,
    size,
    maxSeqLength: layout.max_seq_length,
    maxPredictionsPerSeq: layout.max_predictions_per_seq,
    vocabSize: source.vocab_size,
    source,
    batch(indices) {
      const batch = emptyBatch(layout, indices.length);
      indices.forEach((k, b) => {
        if (!(Number.isInteger(k) && k >= 0 && k < size)) throw new RangeError(`example index ${k} out of range [0, ${size})`);
        fillBatchRow(layout, records, k * layout.record_bytes, batch, b);
      });
      return batch;
    },
    close() {},
  };
}

function shardDataset(dir: string): PretrainingDataset {
  const reader = new ShardReader(dir);
  return {
    path: dir,
    size: reader.size,
    maxSeqLength: reader.layout.max_seq_length,
    maxPredictionsPerSeq: reader.layout.max_predictions_per_seq,
    vocabSize: reader.index.vocab_size,
    source: { kind: 'shards', dir },
    batch: (indices) => reader.batch(indices),
    close: () => reader.close(),
  };
}
