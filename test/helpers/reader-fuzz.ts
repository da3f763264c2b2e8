// Property-based fuzzing of every reader of an outside file: a valid file of each kind, mutated by
// fast-check (bit flips, truncation, numbers and binary lengths set to 0 / 2^31 / 2^63, duplicated,
// reordered and dropped spans), is read; the property is "a value or a one-line BertError naming
// the file, never another exception, within a time and memory bound". Shared by the short
// fixed-seed run in test/reader-fuzz.test.ts and the long run in scripts/fuzz-readers.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadCheckpoint } from '../../src/checkpoint/folder.ts';
import { parsePytorchBin } from '../../src/checkpoint/pytorch-bin.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors.ts';
import { readJsonlRecords } from '../../src/data/jsonl.ts';
import { encodeExample, recordLayout, RecordBlocks } from '../../src/data/records.ts';
import { ShardReader, ShardWriter } from '../../src/data/shards.ts';
import { readColumns } from '../../src/data/tasks/generic.ts';
import { readGlue } from '../../src/data/tasks/glue.ts';
import { readConll } from '../../src/data/tasks/conll.ts';
import { readSquad } from '../../src/data/tasks/squad.ts';
import { readSwag } from '../../src/data/tasks/swag.ts';
import { BertError } from '../../src/errors.ts';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.ts';
import { readTokenizerJson } from '../../src/tokenizer/hf-json.ts';
import { readVocabFile } from '../../src/tokenizer/vocab.ts';
import { torchFixtureEntries, zipArchive } from './hostile-files.ts';
import { FIXTURE, tinyTokenizer } from './tiny-model.ts';

/** One reader: the valid file it starts from, and how to read a (mutated) copy of it in `dir`. */
export interface FuzzTarget {
  /** The file name the mutated bytes are written as (the error must name it). */
  file: string;
  seed: Uint8Array;
  /** Writes any companion files the reader needs beside `file` (once per case). */
  companions?: (dir: string) => void;
  read: (dir: string, path: string) => unknown;
  /** Bytes that are really the input: the torch target mutates data.pkl and re-zips it. */
  wrap?: (mutated: Uint8Array) => Uint8Array;
  /** Where the format keeps binary lengths and offsets (little-endian), for the `field` mutation. */
  fields?: (bytes: Uint8Array) => Field[];
}

export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
}

/** The size, offset and length fields of a zip's local headers, central directory and end record. */
export function zipFields(b: Uint8Array): Field[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Field[] = [];
  for (let p = 0; p + 46 <= b.byteLength; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x04034b50) out.push({ at: p + 18, width: 4 }, { at: p + 22, width: 4 }, { at: p + 26, width: 2 }, { at: p + 28, width: 2 });
    else if (sig === 0x02014b50) out.push({ at: p + 20, width: 4 }, { at: p + 24, width: 4 }, { at: p + 28, width: 2 }, { at: p + 30, width: 2 }, { at: p + 42, width: 4 });
  }
  for (let p = b.byteLength - 22; p >= 0 && p >= b.byteLength - 200; p--) {
    if (v.getUint32(p, true) === 0x06054b50) out.push({ at: p + 8, width: 2 }, { at: p + 10, width: 2 }, { at: p + 12, width: 4 }, { at: p + 16, width: 4 });
  }
  return out;
}

/** Operands of the pickle opcodes that carry lengths, memo indices and ints (BINUNICODE, BININT, ...). */
function pickleFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  for (let p = 0; p + 9 <= b.byteLength; p++) {
    const op = b[p];
    if (op === 0x58 || op === 0x4a || op === 0x72 || op === 0x6a) out.push({ at: p + 1, width: 4 });
    else if (op === 0x95) out.push({ at: p + 1, width: 8 });
    else if (op === 0x8c || op === 0x4b || op === 0x71 || op === 0x68 || op === 0x8a) out.push({ at: p + 1, width: 1 });
  }
  return out;
}

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function fixtureFile(name: string): Uint8Array {
  return readFileSync(join(FIXTURE, name));
}

function tokenizerFiles(): Record<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bert-fuzz-tok-'));
  tinyTokenizer().save(dir);
  const out: Record<string, Uint8Array> = {};
  for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) out[f] = readFileSync(join(dir, f));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** A shard folder of 6 examples (max_seq_length 8, 2 predictions), as the data maker writes one. */
function shardFiles(): Record<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bert-fuzz-shards-'));
  const layout = recordLayout(8, 2, 'uint16');
  const blocks = new RecordBlocks(layout.record_bytes);
  for (let i = 0; i < 6; i++) {
    const { buf, offset } = blocks.append();
    encodeExample(layout, { input_ids: [2, 5 + i, 6, 3, 7, 3], segment_ids: [0, 0, 0, 0, 1, 1], masked_lm_positions: [1], masked_lm_ids: [5 + i], next_sentence_label: i % 2 }, buf, offset);
  }
  const writer = new ShardWriter(join(dir, 'shards'), layout, 99, 4);
  writer.write(blocks, [0, 1, 2, 3, 4, 5]);
  writer.finish({});
  const out: Record<string, Uint8Array> = {};
  for (const f of ['index.json', 'shard-00000.bin', 'shard-00001.bin']) out[f] = readFileSync(join(dir, 'shards', f));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const JSONL_LINE = (ids: number[]) =>
  JSON.stringify({
    input_ids: [...ids, 0, 0],
    input_mask: [1, 1, 1, 1, 1, 1, 0, 0],
    segment_ids: [0, 0, 0, 0, 1, 1, 0, 0],
    masked_lm_positions: [1, 0],
    masked_lm_ids: [ids[1], 0],
    masked_lm_weights: [1, 0],
    next_sentence_labels: [1],
  });

/** Every reader of an outside file, each with a small valid seed. */
export function fuzzTargets(): Record<string, FuzzTarget> {
  const tok = tokenizerFiles();
  const shards = shardFiles();
  const torch = torchFixtureEntries();
  const pkl = torch.find((e) => e.name.endsWith('/data.pkl'))!;
  const withPickle = (bytes: Uint8Array) => zipArchive(torch.map((e) => ({ name: e.name, data: e === pkl ? bytes : e.data, method: 0 as const })));
  const writeAll = (files: Record<string, Uint8Array>) => (dir: string) => {
    for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  };
  const without = (files: Record<string, Uint8Array>, name: string) => Object.fromEntries(Object.entries(files).filter(([f]) => f !== name));
  return {
    'config.json': {
      file: 'config.json',
      seed: fixtureFile('config.json'),
      companions: (dir) => writeFileSync(join(dir, 'model.safetensors'), fixtureFile('model.safetensors')),
      read: (dir) => loadCheckpoint(dir),
    },
    safetensors: { file: 'model.safetensors', seed: fixtureFile('model.safetensors'), fields: () => [{ at: 0, width: 8 }], read: (_dir, path) => parseSafetensors(readFileSync(path), path) },
    'pytorch_model.bin (zip)': { file: 'pytorch_model.bin', seed: fixtureFile('pytorch_model.bin'), fields: zipFields, read: (_dir, path) => parsePytorchBin(readFileSync(path), path) },
    'pytorch_model.bin (pickle)': { file: 'pytorch_model.bin', seed: pkl.data, wrap: withPickle, fields: pickleFields, read: (_dir, path) => parsePytorchBin(readFileSync(path), path) },
    'vocab.txt': { file: 'vocab.txt', seed: tok['vocab.txt']!, read: (_dir, path) => readVocabFile(path) },
    'tokenizer.json': { file: 'tokenizer.json', seed: tok['tokenizer.json']!, read: (_dir, path) => readTokenizerJson(path) },
    'tokenizer_config.json': {
      file: 'tokenizer_config.json',
      seed: tok['tokenizer_config.json']!,
      companions: (dir) => writeFileSync(join(dir, 'vocab.txt'), tok['vocab.txt']!),
      read: (dir) => BertTokenizer.fromVocabFile(join(dir, 'vocab.txt')),
    },
    'shards index.json': { file: 'index.json', seed: shards['index.json']!, companions: writeAll(without(shards, 'index.json')), read: (dir) => readAllShards(dir) },
    'shard .bin': { file: 'shard-00000.bin', seed: shards['shard-00000.bin']!, fields: shardFields, companions: writeAll(without(shards, 'shard-00000.bin')), read: (dir) => readAllShards(dir) },
    'pre-training JSONL': { file: 'data.jsonl', seed: text(`${JSONL_LINE([2, 7, 8, 3, 9, 3])}\n${JSONL_LINE([2, 10, 11, 3, 12, 3])}\n`), read: (_dir, path) => readJsonlRecords(path) },
    'task TSV (GLUE)': { file: 'train.tsv', seed: text('sentence\tlabel\nw5 w6 w7\t1\nw30 w31\t0\n'), read: (_dir, path) => readGlue('sst2', path) },
    'task CSV': { file: 'train.csv', seed: text('text,label\n"w5, ""w6""",pos\nw30 w31,neg\n'), read: (_dir, path) => readColumns(path) },
    'task CSV (SWAG)': { file: 'train.csv', seed: text('sent1,sent2,ending0,ending1,label\nw5 w6,w7,w8,w9,1\nw30,w31,w32,w33,0\n'), read: (_dir, path) => readSwag(path) },
    'task JSONL': { file: 'train.jsonl', seed: text('{"text": "w5 w6", "label": "pos"}\n{"text": "w30", "label": "neg"}\n'), read: (_dir, path) => readColumns(path) },
    'task CoNLL': { file: 'train.conll', seed: text('-DOCSTART- O\n\nw5 B-PER\nw6 O\n\nw7\tB-LOC\n'), read: (_dir, path) => readConll(path) },
    'task SQuAD JSON': {
      file: 'train.json',
      seed: text(JSON.stringify({ version: 'v2.0', data: [{ title: 't', paragraphs: [{ context: 'w5 w6 w7', qas: [{ id: 'q1', question: 'w8?', answers: [{ text: 'w6', answer_start: 3 }] }, { id: 'q2', question: 'w9?', answers: [], is_impossible: true }] }] }] })),
      read: (_dir, path) => readSquad(path),
    },
  };
}

/** The length, num_predictions and label fields of each record of the fuzzed shard. */
function shardFields(b: Uint8Array): Field[] {
  const layout = recordLayout(8, 2, 'uint16');
  const out: Field[] = [];
  for (let r = 0; r + layout.record_bytes <= b.byteLength; r += layout.record_bytes) {
    out.push({ at: r + layout.offsets.length, width: 2 }, { at: r + layout.offsets.num_predictions, width: 2 }, { at: r + layout.offsets.masked_lm_positions, width: 2 }, { at: r + layout.offsets.next_sentence_label, width: 1 });
  }
  return out;
}

function readAllShards(dir: string): number {
  const reader = new ShardReader(dir);
  try {
    const all = Array.from({ length: reader.size }, (_, k) => k);
    reader.batch(all);
    return reader.size;
  } finally {
    reader.close();
  }
}

// ---- mutations ------------------------------------------------------------------------------------

/** Values a length or count is set to: the edges of every integer width readers use. */
const SPECIAL = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 53, 2 ** 63, 2 ** 64 - 1];
const SPECIAL_TEXT = ['0', '-1', '2147483648', '4294967296', '9223372036854775808', '1e308', '0.5', 'null', '""', '[]', '{}'];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'number'; at: number; value: number }
  | { kind: 'binary'; at: number; value: number; width: 2 | 4 | 8 }
  | { kind: 'field'; which: number; value: number }
  | { kind: 'duplicate'; from: number; length: number; to: number }
  | { kind: 'swap'; a: number; b: number; length: number }
  | { kind: 'drop'; from: number; length: number }
  | { kind: 'insert'; at: number; bytes: number[] };

/** Positions are fractions of the file length (in [0, 1)), so one arbitrary serves every seed. */
const frac = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: frac, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: frac }),
  fc.record({ kind: fc.constant('number' as const), at: frac, value: fc.integer({ min: 0, max: SPECIAL_TEXT.length - 1 }) }),
  fc.record({ kind: fc.constant('binary' as const), at: frac, value: fc.integer({ min: 0, max: SPECIAL.length - 1 }), width: fc.constantFrom(2 as const, 4 as const, 8 as const) }),
  fc.record({ kind: fc.constant('field' as const), which: frac, value: fc.integer({ min: 0, max: SPECIAL.length - 1 }) }),
  fc.record({ kind: fc.constant('field' as const), which: frac, value: fc.integer({ min: 0, max: SPECIAL.length - 1 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), from: frac, length: frac, to: frac }),
  fc.record({ kind: fc.constant('swap' as const), a: frac, b: frac, length: fc.double({ min: 0, max: 0.2, noNaN: true }) }),
  fc.record({ kind: fc.constant('drop' as const), from: frac, length: fc.double({ min: 0, max: 0.2, noNaN: true }) }),
  fc.record({ kind: fc.constant('insert' as const), at: frac, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }) }),
);

/** One to four mutations, applied in order. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

export function mutate(seed: Uint8Array, mutations: readonly Mutation[], fields?: (bytes: Uint8Array) => Field[]): Uint8Array {
  let b = Buffer.from(seed);
  for (const m of mutations) b = Buffer.from(applyOne(b, m, fields));
  return b;
}

/** Offsets of the numbers in JSON-like text: digit runs after `:`, `[`, `,` or a space. */
function textNumbers(b: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < b.length; i++) {
    const prev = b[i - 1]!;
    if (!(b[i]! >= 0x30 && b[i]! <= 0x39) || !(prev === 0x3a || prev === 0x5b || prev === 0x2c || prev === 0x20 || prev === 0x09)) continue;
    let j = i;
    while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
    out.push([i, j]);
    i = j;
  }
  return out;
}

function applyOne(b: Buffer, m: Mutation, fields?: (bytes: Uint8Array) => Field[]): Buffer {
  const at = (f: number) => Math.floor(f * b.length);
  switch (m.kind) {
    case 'field': {
      // A binary field the format declares, or else a number in the text.
      const fs = fields?.(b) ?? [];
      if (fs.length > 0) {
        const f = fs[Math.floor(m.which * fs.length)]!;
        if (f.at + f.width > b.length) return b;
        const out = Buffer.from(b);
        const v = BigInt(SPECIAL[m.value]!) & ((1n << BigInt(8 * f.width)) - 1n);
        for (let k = 0; k < f.width; k++) out[f.at + k] = Number((v >> BigInt(8 * k)) & 0xffn);
        return out;
      }
      const ns = textNumbers(b);
      if (ns.length === 0) return b;
      const [i, j] = ns[Math.floor(m.which * ns.length)]!;
      return Buffer.concat([b.subarray(0, i), Buffer.from(SPECIAL_TEXT[m.value % SPECIAL_TEXT.length]!), b.subarray(j)]);
    }
    case 'flip': {
      if (b.length === 0) return b;
      const out = Buffer.from(b);
      out[at(m.at)]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return b.subarray(0, at(m.at));
    case 'number': {
      // The run of ASCII digits at or after the position becomes an edge value (text formats).
      let i = at(m.at);
      while (i < b.length && !(b[i]! >= 0x30 && b[i]! <= 0x39)) i++;
      if (i >= b.length) return b;
      let j = i;
      while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
      return Buffer.concat([b.subarray(0, i), Buffer.from(SPECIAL_TEXT[m.value]!), b.subarray(j)]);
    }
    case 'binary': {
      // A little-endian length field at the position (binary formats: zip, safetensors, shards).
      const i = at(m.at);
      if (i + m.width > b.length) return b;
      const out = Buffer.from(b);
      const v = BigInt(SPECIAL[m.value]!) & ((1n << BigInt(8 * m.width)) - 1n);
      for (let k = 0; k < m.width; k++) out[i + k] = Number((v >> BigInt(8 * k)) & 0xffn);
      return out;
    }
    case 'duplicate': {
      const from = at(m.from);
      const slice = b.subarray(from, Math.min(b.length, from + Math.max(1, Math.floor(m.length * b.length))));
      const to = at(m.to);
      return Buffer.concat([b.subarray(0, to), slice, b.subarray(to)]);
    }
    case 'swap': {
      const n = Math.floor(m.length * b.length);
      let [a, c] = [at(m.a), at(m.b)].sort((x, y) => x - y) as [number, number];
      if (n === 0 || a + n > c || c + n > b.length) return b;
      return Buffer.concat([b.subarray(0, a), b.subarray(c, c + n), b.subarray(a + n, c), b.subarray(a, a + n), b.subarray(c + n)]);
    }
    case 'drop': {
      const from = at(m.from);
      return Buffer.concat([b.subarray(0, from), b.subarray(Math.min(b.length, from + Math.floor(m.length * b.length)))]);
    }
    case 'insert': {
      const i = at(m.at);
      return Buffer.concat([b.subarray(0, i), Buffer.from(m.bytes), b.subarray(i)]);
    }
  }
}

// ---- the property ---------------------------------------------------------------------------------

export interface CaseResult {
  outcome: 'value' | 'refused';
  ms: number;
  /** How much this case raised the process's peak RSS, in kB. */
  peakGrowthKb: number;
  inputBytes: number;
}

/** What a case may cost: this many ms, and peak RSS growth of this much plus 16x the input. */
export interface Bounds {
  ms: number;
  peakKb: number;
}

export const DEFAULT_BOUNDS: Bounds = { ms: 5000, peakKb: 256 * 1024 };

/** Thrown for a case that breaks the property; its message says how. */
export class FuzzViolation extends Error {}

/**
 * Reads `target`'s seed mutated by `mutations` from a fresh folder under `root`. Returns how it went;
 * throws FuzzViolation for anything but a value or a one-line BertError naming the file, or a case
 * over `bounds`.
 */
export function runCase(target: FuzzTarget, mutations: readonly Mutation[], root: string, bounds: Bounds = DEFAULT_BOUNDS): CaseResult {
  const dir = mkdtempSync(join(root, 'case-'));
  try {
    target.companions?.(dir);
    const mutated = mutate(target.seed, mutations, target.fields);
    const bytes = target.wrap === undefined ? mutated : target.wrap(mutated);
    const path = join(dir, target.file);
    writeFileSync(path, bytes);
    const peakBefore = process.resourceUsage().maxRSS;
    const t0 = performance.now();
    let outcome: CaseResult['outcome'] = 'value';
    try {
      target.read(dir, path);
    } catch (err) {
      if (!(err instanceof BertError)) throw new FuzzViolation(`not a BertError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
      if (err.message.includes('\n')) throw new FuzzViolation(`a multi-line message: ${err.message}`);
      if (!err.message.includes(dir)) throw new FuzzViolation(`a message that names no file: ${err.message}`);
      outcome = 'refused';
    }
    const ms = performance.now() - t0;
    const peakGrowthKb = process.resourceUsage().maxRSS - peakBefore;
    if (ms > bounds.ms) throw new FuzzViolation(`took ${ms.toFixed(0)} ms, over ${bounds.ms}`);
    const allowedKb = bounds.peakKb + (16 * bytes.byteLength) / 1024;
    if (peakGrowthKb > allowedKb) throw new FuzzViolation(`raised peak RSS by ${peakGrowthKb} kB, over ${allowedKb.toFixed(0)}`);
    return { outcome, ms, peakGrowthKb, inputBytes: bytes.byteLength };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function fuzzRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'bert-fuzz-'));
  mkdirSync(root, { recursive: true });
  return root;
}
