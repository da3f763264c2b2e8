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
import { readConfigJson } from '../../src/model/config.ts';
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
    safetensors: { file: 'model.safetensors', seed: fixtureFile('model.safetensors'), read: (_dir, path) => parseSafetensors(readFileSync(path), path) },
    'pytorch_model.bin (zip)': { file: 'pytorch_model.bin', seed: fixtureFile('pytorch_model.bin'), read: (_dir, path) => parsePytorchBin(readFileSync(path), path) },
    'pytorch_model.bin (pickle)': { file: 'pytorch_model.bin', seed: pkl.data, wrap: withPickle, read: (_dir, path) => parsePytorchBin(readFileSync(path), path) },
    'vocab.txt': { file: 'vocab.txt', seed: tok['vocab.txt']!, read: (_dir, path) => readVocabFile(path) },
    'tokenizer.json': { file: 'tokenizer.json', seed: tok['tokenizer.json']!, read: (_dir, path) => readTokenizerJson(path) },
    'tokenizer_config.json': {
      file: 'tokenizer_config.json',
      seed: tok['tokenizer_config.json']!,
      companions: (dir) => writeFileSync(join(dir, 'vocab.txt'), tok['vocab.txt']!),
      read: (dir) => BertTokenizer.fromVocabFile(join(dir, 'vocab.txt')),
    },
    'shards index.json': { file: 'index.json', seed: shards['index.json']!, companions: writeAll(without(shards, 'index.json')), read: (dir) => readAllShards(dir) },
    'shard .bin': { file: 'shard-00000.bin', seed: shards['shard-00000.bin']!, companions: writeAll(without(shards, 'shard-00000.bin')), read: (dir) => readAllShards(dir) },
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
  fc.record({ kind: fc.constant('duplicate' as const), from: frac, length: frac, to: frac }),
  fc.record({ kind: fc.constant('swap' as const), a: frac, b: frac, length: fc.double({ min: 0, max: 0.2, noNaN: true }) }),
  fc.record({ kind: fc.constant('drop' as const), from: frac, length: fc.double({ min: 0, max: 0.2, noNaN: true }) }),
  fc.record({ kind: fc.constant('insert' as const), at: frac, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }) }),
);

/** One to four mutations, applied in order. */
export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

export function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(seed);
  for (const m of mutations) b = Buffer.from(applyOne(b, m));
  return b;
}

function applyOne(b: Buffer, m: Mutation): Buffer {
  const at = (f: number) => Math.floor(f * b.length);
  switch (m.kind) {
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
    const mutated = mutate(target.seed, mutations);
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
