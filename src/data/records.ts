/**
 * The fixed-size binary record of one pre-training example, shared by the shard writer, the shard
 * reader and the JSONL importer (which converts to this layout once, so batching is one code path).
 *
 * One record, little-endian, with S = max_seq_length, P = max_predictions_per_seq, w = 2 (uint16
 * ids, vocab < 65536) or 4 (uint32):
 *   input_ids            S × w   padded with 0 ([PAD] in BERT vocabularies)
 *   masked_lm_ids        P × w   padded with 0
 *   masked_lm_positions  P × 2   padded with 0
 *   length               2       real tokens; input_mask is 1 on [0, length)
 *   num_predictions      2       real entries of masked_lm_*
 *   next_sentence_label  1       0 = IsNext, 1 = NotNext
 *   segment_ids          ⌈S/8⌉   one bit per position, LSB first
 *   then zero padding to a multiple of 4 bytes.
 */
export type IdDtype = 'uint16' | 'uint32';

export interface RecordLayout {
  max_seq_length: number;
  max_predictions_per_seq: number;
  dtype: IdDtype;
  record_bytes: number;
  offsets: {
    input_ids: number;
    masked_lm_ids: number;
    masked_lm_positions: number;
    length: number;
    num_predictions: number;
    next_sentence_label: number;
    segment_ids: number;
  };
}

/** One example without padding: what the data maker produces and the JSONL importer validates. */
export interface PretrainingExample {
  input_ids: ArrayLike<number>;
  /** 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`; same length as input_ids. */
  segment_ids: ArrayLike<number>;
  /** Ascending positions into input_ids. */
  masked_lm_positions: ArrayLike<number>;
  /** The original ids at those positions. */
  masked_lm_ids: ArrayLike<number>;
  next_sentence_label: number;
}

export const MAX_SEQ_LENGTH_LIMIT = 65535;

export function recordLayout(max_seq_length: number, max_predictions_per_seq: number, dtype: IdDtype): RecordLayout {
  if (!Number.isInteger(max_seq_length) || max_seq_length < 5 || max_seq_length > MAX_SEQ_LENGTH_LIMIT) {
    throw new RangeError(`max_seq_length must be an integer in [5, ${MAX_SEQ_LENGTH_LIMIT}], got ${max_seq_length}`);
  }
  if (!Number.isInteger(max_predictions_per_seq) || max_predictions_per_seq < 1 || max_predictions_per_seq > max_seq_length) {
    throw new RangeError(`max_predictions_per_seq must be an integer in [1, max_seq_length], got ${max_predictions_per_seq}`);
  }
  const w = dtype === 'uint16' ? 2 : 4;
  const S = max_seq_length;
  const P = max_predictions_per_seq;
  const input_ids = 0;
  const masked_lm_ids = input_ids + S * w;
  const masked_lm_positions = masked_lm_ids + P * w;
  const length = masked_lm_positions + P * 2;
  const num_predictions = length + 2;
  const next_sentence_label = num_predictions + 2;
  const segment_ids = next_sentence_label + 1;
  const end = segment_ids + Math.ceil(S / 8);
  return {
    max_seq_length,
    max_predictions_per_seq,
    dtype,
    record_bytes: Math.ceil(end / 4) * 4,
    offsets: { input_ids, masked_lm_ids, masked_lm_positions, length, num_predictions, next_sentence_label, segment_ids },
  };
}

export function dtypeForVocab(vocab_size: number): IdDtype {
  return vocab_size <= 65536 ? 'uint16' : 'uint32';
}

/** Writes `ex` as one record at `offset` of `buf` (which must be zeroed there). */
export function encodeExample(layout: RecordLayout, ex: PretrainingExample, buf: Buffer, offset: number): void {
  const { offsets: o, dtype } = layout;
  const n = ex.input_ids.length;
  const p = ex.masked_lm_positions.length;
  const w = dtype === 'uint16' ? 2 : 4;
  for (let i = 0; i < n; i++) {
    if (w === 2) buf.writeUInt16LE(ex.input_ids[i]!, offset + o.input_ids + 2 * i);
    else buf.writeUInt32LE(ex.input_ids[i]!, offset + o.input_ids + 4 * i);
    if (ex.segment_ids[i]) buf[offset + o.segment_ids + (i >> 3)]! |= 1 << (i & 7);
  }
  for (let k = 0; k < p; k++) {
    if (w === 2) buf.writeUInt16LE(ex.masked_lm_ids[k]!, offset + o.masked_lm_ids + 2 * k);
    else buf.writeUInt32LE(ex.masked_lm_ids[k]!, offset + o.masked_lm_ids + 4 * k);
    buf.writeUInt16LE(ex.masked_lm_positions[k]!, offset + o.masked_lm_positions + 2 * k);
  }
  buf.writeUInt16LE(n, offset + o.length);
  buf.writeUInt16LE(p, offset + o.num_predictions);
  buf[offset + o.next_sentence_label] = ex.next_sentence_label;
}

/** Reads the record at `offset` back into an unpadded example. */
export function decodeExample(layout: RecordLayout, buf: Buffer, offset: number): PretrainingExample {
  const { offsets: o, dtype } = layout;
  const n = buf.readUInt16LE(offset + o.length);
  const p = buf.readUInt16LE(offset + o.num_predictions);
  const id = (at: number, i: number): number =>
    dtype === 'uint16' ? buf.readUInt16LE(offset + at + 2 * i) : buf.readUInt32LE(offset + at + 4 * i);
  const input_ids: number[] = [];
  const segment_ids: number[] = [];
  for (let i = 0; i < n; i++) {
    input_ids.push(id(o.input_ids, i));
    segment_ids.push((buf[offset + o.segment_ids + (i >> 3)]! >> (i & 7)) & 1);
  }
  const masked_lm_positions: number[] = [];
  const masked_lm_ids: number[] = [];
  for (let k = 0; k < p; k++) {
    masked_lm_positions.push(buf.readUInt16LE(offset + o.masked_lm_positions + 2 * k));
    masked_lm_ids.push(id(o.masked_lm_ids, k));
  }
  return { input_ids, segment_ids, masked_lm_positions, masked_lm_ids, next_sentence_label: buf[offset + o.next_sentence_label]! };
}

/** The ignore index put in masked_lm_ids where a prediction slot is padding (PyTorch's default). */
export const IGNORE_INDEX = -100;

/** Flat, model-ready tensors for B examples (row-major). */
export interface PretrainingBatch {
  batch_size: number;
  seq_length: number;
  max_predictions: number;
  input_ids: BigInt64Array; // (B*S)
  token_type_ids: BigInt64Array; // (B*S)
  attention_mask: BigInt64Array; // (B*S)
  masked_lm_positions: BigInt64Array; // (B*P), 0 in padding slots
  masked_lm_ids: BigInt64Array; // (B*P), IGNORE_INDEX in padding slots
  next_sentence_label: BigInt64Array; // (B)
}

export function emptyBatch(layout: RecordLayout, batch_size: number): PretrainingBatch {
  const S = layout.max_seq_length;
  const P = layout.max_predictions_per_seq;
  return {
    batch_size,
    seq_length: S,
    max_predictions: P,
    input_ids: new BigInt64Array(batch_size * S),
    token_type_ids: new BigInt64Array(batch_size * S),
    attention_mask: new BigInt64Array(batch_size * S),
    masked_lm_positions: new BigInt64Array(batch_size * P),
    masked_lm_ids: new BigInt64Array(batch_size * P).fill(BigInt(IGNORE_INDEX)),
    next_sentence_label: new BigInt64Array(batch_size),
  };
}

/**
 * Why the record at `offset` cannot be a real example (lengths past the layout, positions past the
 * length, ids past the vocabulary), or undefined when it can. Shards are files from outside too.
 */
export function checkRecord(layout: RecordLayout, buf: Buffer, offset: number, vocab_size: number): string | undefined {
  const { offsets: o, dtype } = layout;
  const n = buf.readUInt16LE(offset + o.length);
  const p = buf.readUInt16LE(offset + o.num_predictions);
  if (n > layout.max_seq_length) return `length ${n} is over max_seq_length ${layout.max_seq_length}`;
  if (p > layout.max_predictions_per_seq) return `${p} predictions, over max_predictions_per_seq ${layout.max_predictions_per_seq}`;
  const id = (at: number, i: number): number => (dtype === 'uint16' ? buf.readUInt16LE(offset + at + 2 * i) : buf.readUInt32LE(offset + at + 4 * i));
  for (let i = 0; i < n; i++) if (id(o.input_ids, i) >= vocab_size) return `input id ${id(o.input_ids, i)} at ${i} is not below vocab_size ${vocab_size}`;
  for (let k = 0; k < p; k++) {
    const pos = buf.readUInt16LE(offset + o.masked_lm_positions + 2 * k);
    if (pos >= n) return `masked position ${pos} is past the ${n} tokens`;
    if (id(o.masked_lm_ids, k) >= vocab_size) return `masked id ${id(o.masked_lm_ids, k)} is not below vocab_size ${vocab_size}`;
  }
  const label = buf[offset + o.next_sentence_label]!;
  if (label > 1) return `next_sentence_label ${label} is not 0 or 1`;
  return undefined;
}

/** Copies the record at `offset` into row `b` of `batch` (made by emptyBatch). */
export function fillBatchRow(layout: RecordLayout, buf: Buffer, offset: number, batch: PretrainingBatch, b: number): void {
  const { offsets: o, dtype } = layout;
  const S = layout.max_seq_length;
  const P = layout.max_predictions_per_seq;
  const n = buf.readUInt16LE(offset + o.length);
  const p = buf.readUInt16LE(offset + o.num_predictions);
  const row = b * S;
  for (let i = 0; i < S; i++) {
    const v = dtype === 'uint16' ? buf.readUInt16LE(offset + o.input_ids + 2 * i) : buf.readUInt32LE(offset + o.input_ids + 4 * i);
    batch.input_ids[row + i] = BigInt(v);
    batch.token_type_ids[row + i] = BigInt((buf[offset + o.segment_ids + (i >> 3)]! >> (i & 7)) & 1);
    batch.attention_mask[row + i] = i < n ? 1n : 0n;
  }
  const prow = b * P;
  for (let k = 0; k < p; k++) {
    batch.masked_lm_positions[prow + k] = BigInt(buf.readUInt16LE(offset + o.masked_lm_positions + 2 * k));
    batch.masked_lm_ids[prow + k] = BigInt(
      dtype === 'uint16' ? buf.readUInt16LE(offset + o.masked_lm_ids + 2 * k) : buf.readUInt32LE(offset + o.masked_lm_ids + 4 * k),
    );
  }
  batch.next_sentence_label[b] = BigInt(buf[offset + o.next_sentence_label]!);
}

/**
 * Records in fixed blocks, so a chunk's examples grow without the copy-and-double of one big
 * buffer (which would briefly hold the chunk's examples three times over).
 */
export class RecordBlocks {
  private readonly blocks: Buffer[] = [];
  private count = 0;

  constructor(
    readonly record_bytes: number,
    readonly block_records = 4096,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Room for one more record (zeroed): the buffer and the offset to encode it at. */
  append(): { buf: Buffer; offset: number } {
    const inBlock = this.count % this.block_records;
    if (inBlock === 0) this.blocks.push(Buffer.alloc(this.block_records * this.record_bytes));
    this.count++;
    return { buf: this.blocks[this.blocks.length - 1]!, offset: inBlock * this.record_bytes };
  }

  /** Where record k lives. */
  locate(k: number): { buf: Buffer; offset: number } {
    return { buf: this.blocks[Math.floor(k / this.block_records)]!, offset: (k % this.block_records) * this.record_bytes };
  }
}
