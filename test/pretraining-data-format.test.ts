// Pre-training data files: the hand-checked batch layout, shard/JSONL round trips, determinism,
// chunked streaming, read-ahead, and the errors for bad inputs.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { epochOrder, openPretrainingData } from '../src/data/dataset.ts';
import { makePretrainingData, type MakePretrainingDataOptions } from '../src/data/make.ts';
import { prefetchBatches } from '../src/data/prefetch.ts';
import { encodeExample, RecordBlocks, recordLayout } from '../src/data/records.ts';
import { ShardWriter } from '../src/data/shards.ts';
import { BertError } from '../src/errors.ts';
import { fakeTokenizer, syntheticCorpus } from './helpers/pretraining-data-fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-ptd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const corpus = join(dir, 'corpus.txt');
writeFileSync(corpus, syntheticCorpus(1, 120));

function options(out: string, extra: Partial<MakePretrainingDataOptions> = {}): MakePretrainingDataOptions {
  return {
    inputs: [corpus],
    tokenizer: fakeTokenizer(),
    out,
    format: 'shards',
    max_seq_length: 32,
    max_predictions_per_seq: 5,
    masked_lm_prob: 0.15,
    short_seq_prob: 0.1,
    dupe_factor: 2,
    whole_word_mask: false,
    seed: 12345,
    split_sentences: false,
    ...extra,
  };
}

const big = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));

test('batch layout of a hand-written JSONL file, and the same examples through a shard', () => {
  // S = 8, P = 3. Example 0: [CLS] 10 11 [SEP] 12 [SEP] with 11 masked; example 1 fills the length.
  const ex0 = {
    input_ids: [101, 10, 103, 102, 12, 102, 0, 0],
    input_mask: [1, 1, 1, 1, 1, 1, 0, 0],
    segment_ids: [0, 0, 0, 0, 1, 1, 0, 0],
    masked_lm_positions: [2, 0, 0],
    masked_lm_ids: [11, 0, 0],
    masked_lm_weights: [1.0, 0.0, 0.0],
    next_sentence_labels: [0],
  };
  const ex1 = {
    input_ids: [101, 20, 21, 102, 22, 103, 103, 102],
    input_mask: [1, 1, 1, 1, 1, 1, 1, 1],
    segment_ids: [0, 0, 0, 0, 1, 1, 1, 1],
    masked_lm_positions: [1, 5, 6],
    masked_lm_ids: [20, 23, 24],
    masked_lm_weights: [1, 1, 1],
    next_sentence_labels: [1],
  };
  const path = join(dir, 'hand.jsonl');
  writeFileSync(path, `${JSON.stringify(ex0)}\n${JSON.stringify(ex1)}\n`);
  const ds = openPretrainingData(path);
  assert.equal(ds.size, 2);
  assert.equal(ds.maxSeqLength, 8);
  assert.equal(ds.maxPredictionsPerSeq, 3);
  const b = ds.batch([1, 0]);
  assert.equal(b.batch_size, 2);
  assert.deepEqual(b.input_ids, big([101, 20, 21, 102, 22, 103, 103, 102, 101, 10, 103, 102, 12, 102, 0, 0]));
  assert.deepEqual(b.token_type_ids, big([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0]));
  assert.deepEqual(b.attention_mask, big([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]));
  assert.deepEqual(b.masked_lm_positions, big([1, 5, 6, 2, 0, 0]));
  assert.deepEqual(b.masked_lm_ids, big([20, 23, 24, 11, -100, -100]));
  assert.deepEqual(b.next_sentence_label, big([1, 0]));

  const layout = recordLayout(8, 3, 'uint16');
  const records = new RecordBlocks(layout.record_bytes, 1); // one record a block: exercises locate()
  for (const [k, ex] of [ex0, ex1].entries()) {
    const n = ex.input_mask.filter((m) => m === 1).length;
    const p = ex.masked_lm_weights.filter((w) => w === 1).length;
    const { buf, offset } = records.append();
    assert.equal(offset, 0);
    encodeExample(
      layout,
      {
        input_ids: ex.input_ids.slice(0, n),
        segment_ids: ex.segment_ids.slice(0, n),
        masked_lm_positions: ex.masked_lm_positions.slice(0, p),
        masked_lm_ids: ex.masked_lm_ids.slice(0, p),
        next_sentence_label: ex.next_sentence_labels[0]!,
      },
      buf,
      offset,
    );
    assert.equal(records.size, k + 1);
  }
  const shardDir = join(dir, 'hand-shards');
  const w = new ShardWriter(shardDir, layout, 30522, 1); // one record per shard: crosses shard files
  w.write(records, [0, 1]);
  w.finish({});
  const fromShards = openPretrainingData(shardDir);
  assert.deepEqual(fromShards.batch([1, 0]), b);
  fromShards.close();
});

test('made data: shards and JSONL hold the same examples; index.json describes the shards', async () => {
  const s = await makePretrainingData(options(join(dir, 'a')));
  const j = await makePretrainingData(options(join(dir, 'a.jsonl'), { format: 'jsonl' }));
  assert.equal(s.documents, 120);
  assert.equal(s.instances, j.instances);
  const shards = openPretrainingData(join(dir, 'a'));
  const jsonl = openPretrainingData(join(dir, 'a.jsonl'));
  assert.equal(shards.size, s.instances);
  assert.equal(jsonl.size, s.instances);
  const all = Array.from({ length: shards.size }, (_, i) => i);
  assert.deepEqual(shards.batch(all), jsonl.batch(all));
  const index = JSON.parse(readFileSync(join(dir, 'a', 'index.json'), 'utf8'));
  assert.equal(index.num_examples, s.instances);
  assert.equal(index.dtype, 'uint16');
  assert.equal(index.vocab_size, 307);
  assert.equal(index.max_seq_length, 32);
  assert.equal(index.max_predictions_per_seq, 5);
  // Every line of the JSONL has the original feature names and padded lengths.
  const line = JSON.parse(readFileSync(join(dir, 'a.jsonl'), 'utf8').split('\n')[0]!);
  assert.deepEqual(Object.keys(line), [
    'input_ids',
    'input_mask',
    'segment_ids',
    'masked_lm_positions',
    'masked_lm_ids',
    'masked_lm_weights',
    'next_sentence_labels',
  ]);
  assert.deepEqual(
    Object.values(line).map((v) => (v as number[]).length),
    [32, 32, 32, 5, 5, 5, 1],
  );
  shards.close();
});

test('same seed gives byte-identical shards; another seed does not', async () => {
  await makePretrainingData(options(join(dir, 's1')));
  await makePretrainingData(options(join(dir, 's2')));
  await makePretrainingData(options(join(dir, 's3'), { seed: 54321 }));
  const bytes = (d: string): Buffer => readFileSync(join(dir, d, 'shard-00000.bin'));
  assert.ok(bytes('s1').equals(bytes('s2')));
  assert.ok(readFileSync(join(dir, 's1', 'index.json')).equals(readFileSync(join(dir, 's2', 'index.json'))));
  assert.ok(!bytes('s1').equals(bytes('s3')));
});

test('small chunks stream the corpus in pieces and small shards split the output', async () => {
  const out = join(dir, 'chunked');
  const summary = await makePretrainingData(options(out, { chunk_chars: 4000, shard_examples: 100 }));
  assert.ok(summary.chunks >= 3, `${summary.chunks} chunks`);
  const ds = openPretrainingData(out);
  assert.equal(ds.size, summary.instances);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.bin')).length, Math.ceil(summary.instances / 100));
  const b = ds.batch([0, ds.size - 1]);
  assert.equal(b.input_ids.length, 64);
  ds.close();
});

test('prefetchBatches yields the same batches as direct reads, in order, and resumes at a position', async () => {
  const ds = openPretrainingData(join(dir, 'a'));
  const order = epochOrder(ds.size, 7, 0);
  assert.deepEqual(epochOrder(ds.size, 7, 0), order);
  assert.notDeepEqual(epochOrder(ds.size, 7, 1), order);
  assert.deepEqual(Array.from(order).sort((x, y) => x - y), Array.from({ length: ds.size }, (_, i) => i));
  const seen: number[] = [];
  for await (const { position, next_position, batch } of prefetchBatches(ds, order, 8, 3)) {
    assert.deepEqual(batch, ds.batch(Array.from(order.subarray(position, next_position))));
    seen.push(position);
  }
  assert.deepEqual(seen, Array.from({ length: Math.ceil(ds.size / 8) }, (_, i) => i * 8));
  // Resume from a saved position; dropLast leaves out the partial tail.
  const resumed: number[] = [];
  for await (const { position, batch } of prefetchBatches(ds, order, 8, 2, { start: 16, dropLast: true })) {
    assert.equal(batch.batch_size, 8);
    resumed.push(position);
  }
  assert.deepEqual(resumed, seen.filter((p) => p >= 16 && p + 8 <= ds.size));
  // Breaking out early stops the worker (the test would hang otherwise).
  for await (const _ of prefetchBatches(ds, order, 4, 2)) break;
  // A JSONL dataset reaches the worker as shared memory and reads the same.
  const jsonl = openPretrainingData(join(dir, 'a.jsonl'));
  for await (const { position, next_position, batch } of prefetchBatches(jsonl, order, 16, 2, { start: 8 })) {
    assert.deepEqual(batch, ds.batch(Array.from(order.subarray(position, next_position))));
  }
  ds.close();
});

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BertError, `expected BertError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('bad inputs give BertErrors naming the file (and line)', async () => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n\n  \n');
  await rejects(makePretrainingData(options(join(dir, 'x1'), { inputs: [empty] })), /empty\.txt: no text in the input/);
  const single = join(dir, 'single.txt');
  writeFileSync(single, 'w1 w2 w3\n\nw4 w5\n\nw6\n');
  await rejects(
    makePretrainingData(options(join(dir, 'x2'), { inputs: [single] })),
    /single\.txt:1: all 3 documents .* single sentence: next-sentence prediction needs documents of at least two sentences/,
  );
  const one = join(dir, 'one.txt');
  writeFileSync(one, '\nw1 w2\nw3 w4\n');
  await rejects(makePretrainingData(options(join(dir, 'x3'), { inputs: [one] })), /one\.txt:2: only one document/);
  await rejects(makePretrainingData(options(join(dir, 'x4'), { inputs: [join(dir, 'missing.txt')] })), /missing\.txt: cannot read input: ENOENT/);
  await rejects(makePretrainingData(options(join(dir, 'x5'), { inputs: [dir] })), /not a regular file/);
  // A failed run leaves no shards behind.
  assert.deepEqual(readdirSync(join(dir, 'x2')), []);

  const good = readFileSync(join(dir, 'a.jsonl'), 'utf8').split('\n').filter((l) => l);
  const bad = JSON.parse(good[2]!);
  bad.masked_lm_ids.pop();
  const path = join(dir, 'bad.jsonl');
  writeFileSync(path, `${good[0]}\n${good[1]}\n${JSON.stringify(bad)}\n`);
  assert.throws(() => openPretrainingData(path), /bad\.jsonl:3: field "masked_lm_ids" has length 4, expected 5/);
  writeFileSync(path, `${good[0]}\n{"input_ids": [1, 2]\n`);
  assert.throws(() => openPretrainingData(path), /bad\.jsonl:2: not valid JSON/);
  const holes = JSON.parse(good[0]!);
  holes.input_mask[0] = 0;
  writeFileSync(path, `${JSON.stringify(holes)}\n`);
  assert.throws(() => openPretrainingData(path), /bad\.jsonl:1: input_mask\[1\] = 1: expected ones followed by zeros/);
  assert.throws(() => openPretrainingData(join(dir, 'nope')), /nope: cannot open pre-training data: ENOENT/);
});
