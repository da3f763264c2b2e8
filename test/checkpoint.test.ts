import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/folder.ts';
import { bertParameterShapes, describeMatch, matchState, normalizeKey, normalizeState } from '../src/checkpoint/keys.ts';
import { parsePytorchBin, readPytorchBin } from '../src/checkpoint/pytorch-bin.ts';
import { parseSafetensors, readSafetensors, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import type { FloatTensor, StoredTensor } from '../src/checkpoint/tensor.ts';
import { listZip, readZipEntry } from '../src/checkpoint/zip.ts';
import { crc32, zipStored } from '../src/checkpoint/zip-write.ts';
import { BertError } from '../src/errors.ts';

const FIX = new URL('../fixtures/bert-tiny/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  word_embeddings_row3: { f32: number[]; f16: number[]; bf16: number[] };
};
const tmp = (): string => mkdtempSync(join(tmpdir(), 'bert-ckpt-'));
const bertError = (re: RegExp) => (err: unknown) => err instanceof BertError && re.test(err.message);

/** A safetensors file from a header object and raw data, built by hand (independent of our writer). */
function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const text = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}
const u16 = (xs: number[]): Uint8Array => {
  const b = new Uint8Array(2 * xs.length);
  xs.forEach((x, i) => new DataView(b.buffer).setUint16(2 * i, x, true));
  return b;
};
const floats = (t: StoredTensor | FloatTensor | undefined): number[] => Array.from(t!.data as Float32Array);

test('safetensors round trip gives identical tensors; header is spec-shaped', () => {
  const dir = tmp();
  const tensors = new Map<string, FloatTensor>([
    ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, Math.PI, -0, 1e30]) }],
    ['a.bias', { shape: [5], data: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]) }],
    ['scalar', { shape: [], data: Float32Array.from([7]) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  const path = join(dir, 'model.safetensors');
  writeSafetensors(path, tensors);
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: number[] }>;
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  assert.deepEqual(names.sort((x, y) => header[x]!.data_offsets[0]! - header[y]!.data_offsets[0]! || x.localeCompare(y)), ['a.bias', 'b.weight', 'empty', 'scalar']);
  const back = readSafetensors(path);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.equal(back.tensors.size, 4);
  for (const [name, t] of tensors) {
    const u = back.tensors.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.equal(u.dtype, 'float');
    assert.deepEqual(floats(u), Array.from(t.data), name);
  }
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temp file left behind');
});

test('fp16 / bf16 / i64 decode to known values', () => {
  // fp16: 1, -2, max 65504, smallest subnormal 2^-24, +inf, 0x3555 = 0.333251953125
  // bf16: 1, 3.140625 (0x4049), -0.5 (0xBF00)
  const f16 = u16([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555]);
  const bf16 = u16([0x3f80, 0x4049, 0xbf00, 0x0000]);
  const i64 = new Uint8Array(16);
  new DataView(i64.buffer).setBigInt64(0, -1n, true);
  new DataView(i64.buffer).setBigInt64(8, 1n << 40n, true);
  const data = new Uint8Array([...f16, ...bf16, ...i64]);
  const file = handMade(
    {
      h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] },
      b: { dtype: 'BF16', shape: [2, 2], data_offsets: [12, 20] },
      i: { dtype: 'I64', shape: [2], data_offsets: [20, 36] },
    },
    data,
  );
  const { tensors } = parseSafetensors(file);
  assert.deepEqual(floats(tensors.get('h')), [1, -2, 65504, 2 ** -24, Infinity, 0.333251953125]);
  assert.deepEqual(floats(tensors.get('b')), [1, 3.140625, -0.5, 0]);
  assert.deepEqual(tensors.get('b')!.shape, [2, 2]);
  const i = tensors.get('i')!;
  assert.equal(i.dtype, 'int64');
  assert.deepEqual(Array.from(i.data as BigInt64Array), [-1n, 1n << 40n]);
});

test('fixture: model.safetensors and pytorch_model.bin hold identical tensors', () => {
  const st = normalizeState(readSafetensors(join(FIX, 'model.safetensors')).tensors);
  const pt = normalizeState(readPytorchBin(join(FIX, 'pytorch_model.bin')));
  assert.deepEqual([...pt.tensors.keys()].sort(), [...st.tensors.keys()].sort());
  assert.equal(st.tensors.size, 5 + 2 * 16 + 2 + 5 + 2); // embeddings, 2 layers, pooler, MLM, NSP
  for (const [name, t] of st.tensors) {
    const u = pt.tensors.get(name)!;
    assert.deepEqual(u.shape, t.shape, name);
    assert.deepEqual(floats(u), floats(t), name);
  }
  // The .bin's extras (buffer, tied copies) are dropped; its decoder.weight equals the word embeddings.
  assert.deepEqual(pt.ignored.sort(), ['bert.embeddings.position_ids', 'cls.predictions.decoder.bias', 'cls.predictions.decoder.weight']);
  const raw = readPytorchBin(join(FIX, 'pytorch_model.bin'));
  assert.deepEqual(floats(raw.get('cls.predictions.decoder.weight')), floats(st.tensors.get('bert.embeddings.word_embeddings.weight')));
  assert.deepEqual(Array.from(raw.get('bert.embeddings.position_ids')!.data as BigInt64Array).slice(0, 3), [0n, 1n, 2n]);
  // values as the reference printed them (q/k/v are views at storage offsets; the pooler weight is strided)
  const row3 = floats(st.tensors.get('bert.embeddings.word_embeddings.weight')).slice(3 * 32, 3 * 32 + 8);
  assert.deepEqual(row3, expected.word_embeddings_row3.f32.map(Math.fround));
});

test('fixture: fp16 .bin and bf16 .safetensors convert to the values torch rounds to', () => {
  const f32 = normalizeState(readSafetensors(join(FIX, 'model.safetensors')).tensors).tensors;
  const f16 = normalizeState(readPytorchBin(join(FIX, 'fp16/pytorch_model.bin'))).tensors;
  const bf16 = normalizeState(readSafetensors(join(FIX, 'bf16/model.safetensors')).tensors).tensors;
  const row = (m: Map<string, FloatTensor>) => floats(m.get('bert.embeddings.word_embeddings.weight')).slice(3 * 32, 3 * 32 + 8);
  assert.deepEqual(row(f16), expected.word_embeddings_row3.f16);
  assert.deepEqual(row(bf16), expected.word_embeddings_row3.bf16);
  for (const [name, t] of f32) {
    const a = f16.get(name)!.data;
    const b = bf16.get(name)!.data;
    for (let i = 0; i < t.data.length; i++) {
      const x = Math.abs(t.data[i]!);
      assert.ok(Math.abs(a[i]! - t.data[i]!) <= x * 2 ** -11 + 2 ** -25, `${name}[${i}] fp16`);
      assert.ok(Math.abs(b[i]! - t.data[i]!) <= x * 2 ** -8, `${name}[${i}] bf16`);
    }
  }
});

test('a malicious pickle is refused and nothing runs', () => {
  const marker = '/tmp/bert_ts_malicious_pickle_ran';
  rmSync(marker, { force: true });
  assert.throws(() => readPytorchBin(join(FIX, 'malicious/pytorch_model.bin')), bertError(/refusing to load: the pickle asks for global os\.system/));
  assert.throws(() => readPytorchBin(join(FIX, 'malicious/stack_global.bin')), bertError(/refusing to load: the pickle asks for global builtins\.eval/));
  // and through the folder API
  const dir = tmp();
  copyFileSync(join(FIX, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(FIX, 'malicious/pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
  assert.throws(() => loadCheckpoint(dir), bertError(/os\.system/));
  assert.equal(existsSync(marker), false);
});

test('bad .bin files: legacy format, not a zip, truncated, unknown opcode', () => {
  const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
  assert.throws(() => parsePytorchBin(legacy), bertError(/legacy .*re-save it with a current PyTorch/));
  assert.throws(() => parsePytorchBin(Buffer.from('hello world')), bertError(/not a PyTorch checkpoint/));
  const bin = readFileSync(join(FIX, 'pytorch_model.bin'));
  assert.throws(() => parsePytorchBin(bin.subarray(0, bin.length - 100)), bertError(/truncated/));
  assert.throws(() => parsePytorchBin(bin.subarray(0, 20000)), BertError);
});

test('bad safetensors files: truncated, corrupt header, holes, unknown dtype', () => {
  const file = readFileSync(join(FIX, 'model.safetensors'));
  assert.throws(() => parseSafetensors(file.subarray(0, file.length - 10), 'm.safetensors'), bertError(/^m\.safetensors: not a valid safetensors file: .*truncated/));
  assert.throws(() => parseSafetensors(file.subarray(0, 5)), bertError(/shorter than the 8-byte header length/));
  const huge = Buffer.from(file);
  huge.writeBigUInt64LE(1n << 60n, 0);
  assert.throws(() => parseSafetensors(huge), bertError(/header length \d+ does not fit/));
  const garbled = Buffer.from(file);
  garbled[8] = 0x5b; // '[' opens the header: not JSON any more
  assert.throws(() => parseSafetensors(garbled), bertError(/header is not valid JSON/));
  const data = new Uint8Array(8);
  assert.throws(() => parseSafetensors(handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data)), bertError(/starts at byte 4, expected 0/));
  assert.throws(() => parseSafetensors(handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data)), bertError(/needs 12 bytes, data_offsets give 8/));
  assert.throws(() => parseSafetensors(handMade({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, data)), bertError(/dtype "C64"/));
  assert.throws(() => readSafetensors('/nonexistent/model.safetensors'), bertError(/cannot read safetensors file/));
});

test('key normalisation: bert. prefix optional, LayerNorm gamma/beta, decoder bias', () => {
  assert.equal(normalizeKey('embeddings.LayerNorm.gamma'), 'bert.embeddings.LayerNorm.weight');
  assert.equal(normalizeKey('encoder.layer.3.output.LayerNorm.beta'), 'bert.encoder.layer.3.output.LayerNorm.bias');
  assert.equal(normalizeKey('bert.pooler.dense.weight'), 'bert.pooler.dense.weight');
  assert.equal(normalizeKey('pooler.dense.bias'), 'bert.pooler.dense.bias');
  assert.equal(normalizeKey('cls.predictions.transform.LayerNorm.gamma'), 'cls.predictions.transform.LayerNorm.weight');
  assert.equal(normalizeKey('classifier.weight'), 'classifier.weight');
  const t = (x: number): StoredTensor => ({ dtype: 'float', shape: [1], data: Float32Array.from([x]) });
  const { tensors, ignored } = normalizeState(
    new Map([
      ['embeddings.LayerNorm.gamma', t(1)],
      ['cls.predictions.decoder.bias', t(2)],
      ['embeddings.position_ids', { dtype: 'int64', shape: [1], data: BigInt64Array.from([0n]) }],
    ]),
  );
  assert.deepEqual([...tensors.keys()].sort(), ['bert.embeddings.LayerNorm.weight', 'cls.predictions.bias']);
  assert.deepEqual(floats(tensors.get('cls.predictions.bias')), [2]);
  assert.deepEqual(ignored.sort(), ['cls.predictions.decoder.bias', 'embeddings.position_ids']);
  assert.throws(() => normalizeState(new Map([['pooler.dense.bias', t(1)], ['bert.pooler.dense.bias', t(2)]])), bertError(/holds bert\.pooler\.dense\.bias twice/));
});

test('loadCheckpoint + matchState: full match, fresh head reported like HF, shape mismatch names both shapes', () => {
  const ck = loadCheckpoint(FIX);
  assert.equal(ck.source, join(FIX, 'model.safetensors'));
  assert.equal(ck.config.hidden_size, 32);
  const pre = matchState(bertParameterShapes(ck.config, 'pretraining'), ck.tensors);
  assert.deepEqual(pre, { missing: [], unexpected: [] });
  const cls = matchState(bertParameterShapes(ck.config, 'sequence_classification', 3), ck.tensors);
  assert.deepEqual(cls.missing, ['classifier.weight', 'classifier.bias']);
  assert.equal(cls.unexpected.length, 7);
  assert.ok(cls.unexpected.every((k) => k.startsWith('cls.')));
  const [unused, fresh] = describeMatch(cls, 'BertForSequenceClassification', FIX);
  assert.match(unused!, /were not used when initializing BertForSequenceClassification: .*cls\.seq_relationship\.weight/);
  assert.match(fresh!, /newly initialized: classifier\.weight, classifier\.bias/);
  const wrong = bertParameterShapes({ ...ck.config, intermediate_size: 40 }, 'pretraining');
  assert.throws(
    () => matchState(wrong, ck.tensors, 'm'),
    bertError(/shape mismatch in \d+ tensors\): .*bert\.encoder\.layer\.0\.intermediate\.dense\.weight: checkpoint has \[37, 32\], model expects \[40, 32\]/s),
  );
});

test('loadCheckpoint: falls back to pytorch_model.bin; clear errors for missing pieces', () => {
  const dir = tmp();
  assert.throws(() => loadCheckpoint(join(dir, 'nope')), bertError(/model folder not found/));
  assert.throws(() => loadCheckpoint(dir), bertError(/no config\.json/));
  copyFileSync(join(FIX, 'config.json'), join(dir, 'config.json'));
  assert.throws(() => loadCheckpoint(dir), bertError(/no weights in the model folder: looked for model\.safetensors, .*pytorch_model\.bin/));
  copyFileSync(join(FIX, 'pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
  const ck = loadCheckpoint(dir);
  assert.equal(ck.source, join(dir, 'pytorch_model.bin'));
  assert.deepEqual(matchState(bertParameterShapes(ck.config, 'pretraining'), ck.tensors), { missing: [], unexpected: [] });
});

test('saveCheckpoint then loadCheckpoint gives identical config and tensors; tied decoder not written', () => {
  const src = loadCheckpoint(join(FIX, 'fp16'));
  const tok = tmp();
  writeFileSync(join(tok, 'vocab.txt'), '[PAD]\n[UNK]\n');
  const dir = join(tmp(), 'a', 'b');
  const withTied = new Map(src.tensors);
  withTied.set('cls.predictions.decoder.weight', src.tensors.get('bert.embeddings.word_embeddings.weight')!);
  saveCheckpoint(dir, src.config, withTied, { tokenizerDir: tok });
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors', 'vocab.txt']);
  assert.equal(readFileSync(join(dir, 'vocab.txt'), 'utf8'), '[PAD]\n[UNK]\n');
  const back = loadCheckpoint(dir);
  assert.deepEqual(back.config, src.config);
  assert.deepEqual(back.ignored, []);
  assert.deepEqual([...back.tensors.keys()].sort(), [...src.tensors.keys()].sort());
  for (const [name, t] of src.tensors) assert.deepEqual(floats(back.tensors.get(name)), floats(t), name);
});

test('sharded safetensors folders load through their index', () => {
  const dir = tmp();
  copyFileSync(join(FIX, 'config.json'), join(dir, 'config.json'));
  const all = loadCheckpoint(FIX).tensors;
  const names = [...all.keys()];
  const half = names.length >> 1;
  writeSafetensors(join(dir, 's1.safetensors'), new Map(names.slice(0, half).map((n) => [n, all.get(n)!])));
  writeSafetensors(join(dir, 's2.safetensors'), new Map(names.slice(half).map((n) => [n, all.get(n)!])));
  const weight_map = Object.fromEntries(names.map((n, i) => [n, i < half ? 's1.safetensors' : 's2.safetensors']));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map }));
  mkdirSync(join(dir, 'unused'));
  const ck = loadCheckpoint(dir);
  assert.equal(ck.tensors.size, all.size);
  assert.deepEqual(floats(ck.tensors.get(names[names.length - 1]!)), floats(all.get(names[names.length - 1]!)));
});

test('zipStored: an archive zip.ts reads back, with the CRC-32 of the check value "123456789"', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const files = [
    { name: 'config.json', data: new TextEncoder().encode('{"a": 1}\n') },
    { name: 'model.safetensors', data: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff) },
    { name: 'empty.txt', data: new Uint8Array(0) },
  ];
  const zip = zipStored(files);
  const entries = listZip(zip, 'test.zip');
  assert.deepEqual([...entries.keys()], files.map((f) => f.name));
  for (const f of files) assert.deepEqual(readZipEntry(zip, entries.get(f.name)!, 'test.zip'), f.data);
});
