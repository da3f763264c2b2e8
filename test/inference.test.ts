import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { lengthBuckets } from '../src/inference/batching.ts';
import { compileInference } from '../src/inference/graph.ts';
import { loadInferenceModel, type BertInference } from '../src/inference/pipeline.ts';
import { bestSpans, groupEntities, softmax } from '../src/inference/postprocess.ts';
import { mergeWindowAnswers, qaWindows } from '../src/inference/qa-windows.ts';
import { bertInputs, bertModel, newContext, preTrainingHeads } from '../src/model/bert.ts';
import { ModelRunner } from '../src/model/runner.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { FIXTURE, tinyHeadFolder, tinyModelFolder, tinyTokenizer } from './helpers/tiny-model.ts';

// The reference for every pipeline below is the unfused graph fed its parameters as inputs (ModelRunner):
// the path test/bert.test.ts holds to PyTorch within 1e-4. Pooling, softmax, top-k, spans are redone here by hand.
const weights = loadCheckpoint(FIXTURE);
const H = 32;

async function reference(ids: number[]): Promise<{ hidden: Float32Array[]; pooled: Float32Array; logitsAt: (p: number) => Float32Array }> {
  const ctx = newContext(weights.config, { training: false });
  const inputs = bertInputs(ctx);
  const out = bertModel(ctx, inputs);
  const positions = ctx.graph.input('masked_lm_positions', 'int64', ['batch', 'masked']);
  const mlm = preTrainingHeads(ctx, out, positions, inputs.input_ids);
  const outputs: Record<string, import('../src/graph/graph.ts').Value> = { pooled: out.pooler_output, logits: mlm.prediction_logits };
  out.hidden_states.forEach((h, i) => (outputs[`h${i}`] = h));
  const runner = await ModelRunner.create(ctx, outputs);
  const S = ids.length;
  const t = (xs: number[]): HostTensor => ({ dtype: 'int64', shape: [1, xs.length], data: BigInt64Array.from(xs, BigInt) });
  const r = await runner.run(
    { input_ids: t(ids), token_type_ids: t(new Array(S).fill(0)), attention_mask: t(new Array(S).fill(1)), masked_lm_positions: t([...ids.keys()]) },
    weights.tensors as ReadonlyMap<string, FloatTensor>,
  );
  await runner.dispose();
  const V = 99;
  return {
    hidden: out.hidden_states.map((_, i) => r[`h${i}`]!.data as Float32Array),
    pooled: r.pooled!.data as Float32Array,
    logitsAt: (p) => (r.logits!.data as Float32Array).subarray(p * V, (p + 1) * V),
  };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const row = (m: Float32Array, r: number) => m.subarray(r * H, (r + 1) * H);

const TEXTS = ['w10 w20 w30', 'w5', 'w40 w41 w42 w43 w44 w45 w46 w47 w48', 'w98 w6', 'w11 w12 w13 w14'];

describe('inference pipelines on fixtures/bert-tiny', () => {
  let dir: string;
  let model: BertInference;
  before(async () => {
    dir = tinyModelFolder();
    // Batches of at most 2, so the five texts run as three length buckets.
    model = await loadInferenceModel(dir, { batch: { maxBatch: 2, maxTokens: 1000 }, log: () => {} });
  });
  after(() => model.dispose());

  test('detects BertForPreTraining as fill-mask', () => {
    assert.equal(model.task, 'fill-mask');
    assert.equal(model.head, 'pretraining');
  });

  test('mean pooling = mask-aware mean of the reference last_hidden_state, per text, in input order', async () => {
    const got = await model.embed(TEXTS, { pooling: 'mean' });
    for (const [i, text] of TEXTS.entries()) {
      const ids = tinyTokenizer().encode(text).input_ids;
      const ref = await reference(ids);
      const mean = new Array<number>(H).fill(0);
      for (let s = 0; s < ids.length; s++) row(ref.hidden[2]!, s).forEach((x, h) => (mean[h]! += x / ids.length));
      assert.ok(maxDiff(got[i]!, mean) < 1e-4, `text ${i}`);
    }
  });

  test('cls with --layers -1,-2 concatenates the two last hidden states at [CLS]; normalize gives unit length', async () => {
    const [got] = await model.embed([TEXTS[0]!], { pooling: 'cls', layers: [-1, -2] });
    const ref = await reference(tinyTokenizer().encode(TEXTS[0]!).input_ids);
    assert.ok(maxDiff(got!, [...row(ref.hidden[2]!, 0), ...row(ref.hidden[1]!, 0)]) < 1e-4);
    const [unit] = await model.embed([TEXTS[0]!], { pooling: 'cls', normalize: true });
    const norm = Math.hypot(...row(ref.hidden[2]!, 0));
    assert.ok(maxDiff(unit!, Array.from(row(ref.hidden[2]!, 0), (x) => x / norm)) < 1e-5);
  });

  test('pooler pooling = the pooled output', async () => {
    const [got] = await model.embed([TEXTS[2]!], { pooling: 'pooler' });
    const ref = await reference(tinyTokenizer().encode(TEXTS[2]!).input_ids);
    assert.ok(maxDiff(got!, ref.pooled) < 1e-4);
  });

  test('token states: tokens and one row per token', async () => {
    const [got] = await model.tokenStates([TEXTS[3]!], { layers: [0] });
    assert.deepEqual(got!.tokens, ['[CLS]', 'w98', 'w6', '[SEP]']);
    const ref = await reference([2, 98, 6, 3]);
    assert.ok(maxDiff(got!.hidden_states.flat(), ref.hidden[0]!) < 1e-4);
  });

  test('fill-mask: softmax of the reference MLM logits at each [MASK], top-k best first', async () => {
    const text = 'w10 [MASK] w20 w30 [MASK]';
    const [masks] = await model.fillMask([text, 'w7 [MASK]'], 3);
    const ids = [2, 10, 4, 20, 30, 4, 3];
    const ref = await reference(ids);
    assert.equal(masks!.length, 2);
    for (const [j, pos] of [2, 5].entries()) {
      const logits = Array.from(ref.logitsAt(pos));
      const z = logits.reduce((a, x) => a + Math.exp(x), 0);
      const probs = logits.map((x) => Math.exp(x) / z);
      const best = probs.map((p, id) => [p, id] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
      assert.deepEqual(masks![j]!.map((p) => p.token), best.map(([, id]) => id));
      assert.ok(maxDiff(masks![j]!.map((p) => p.score), best.map(([p]) => p)) < 1e-5);
      assert.equal(masks![j]![0]!.token_str, `w${best[0]![1]}`);
    }
    await assert.rejects(model.fillMask(['no mask here'], 3), /no \[MASK\]/);
  });

  test('tokenCount: what the model reads, untruncated; a literal [MASK] is one token, as fill-mask reads it', () => {
    // The tiny vocabulary has w0..w99: each "wN" is one token; [CLS] and [SEP] (and a pair's second [SEP]) count.
    assert.equal(model.tokenCount('w10 w20 w30'), 5);
    assert.equal(model.tokenCount(['w10 w20', 'w30']), 6);
    const long = Array.from({ length: model.maxLength + 5 }, (_, i) => `w${i % 90}`).join(' ');
    assert.equal(model.tokenCount(long), model.maxLength + 7);
    assert.equal(model.tokenCount('w10 [MASK] w20 [MASK]', { masks: true }), 6);
    assert.equal(model.tokenCount('w10 [MASK] w20', { masks: true }), model.encodeWithMasks('w10 [MASK] w20').input_ids.length);
  });

  test('other heads refuse with a message naming the checkpoint class', async () => {
    await assert.rejects(model.classify(['w5']), /BertForSequenceClassification.*BertForPreTraining/);
  });
});

describe('fill-mask graph against the PyTorch fixture', () => {
  test('frozen-weight MLM logits (fused and unfused) give the softmax probabilities of the torch logits within 1e-5', async () => {
    const e = JSON.parse(readFileSync(`${FIXTURE}expected.json`, 'utf8')) as { inputs: Record<string, number[][]>; mlm_logits: number[][][] };
    const ints = (rows: number[][]): HostTensor => ({ dtype: 'int64', shape: [rows.length, rows[0]!.length], data: BigInt64Array.from(rows.flat(), BigInt) });
    const feeds = Object.fromEntries(Object.entries(e.inputs).map(([k, v]) => [k, ints(v)]));
    const want = e.mlm_logits.flat(1).map((logits) => softmax(logits));
    for (const fused of [true, false]) {
      const g = await compileInference(weights.config, weights.tensors, { kind: 'fill-mask' }, { fused, threads: 1 });
      const logits = (await g.run(feeds)).prediction_logits!.data as Float32Array;
      await g.dispose();
      want.forEach((p, r) => assert.ok(maxDiff(softmax(logits.subarray(r * 99, (r + 1) * 99)), p) < 1e-5, `fused ${fused}, row ${r}`));
    }
  });
});

describe('heads: classification, token classification, QA', () => {
  test('text classification = softmax(classifier(pooled)) with id2label; missing keys are reported', async () => {
    const dir = tinyHeadFolder(weights.tensors, 'BertForSequenceClassification', { 'classifier.weight': [3, H], 'classifier.bias': [3] }, ['neg', 'neu', 'pos']);
    const ck = loadCheckpoint(dir);
    const model = await loadInferenceModel(dir, { log: () => {} });
    const [scores] = await model.classify([TEXTS[0]!]);
    const pooled = (await reference(tinyTokenizer().encode(TEXTS[0]!).input_ids)).pooled;
    const W = ck.tensors.get('classifier.weight')!.data;
    const b = ck.tensors.get('classifier.bias')!.data;
    const logits = [0, 1, 2].map((c) => b[c]! + pooled.reduce((a, x, h) => a + x * W[c * H + h]!, 0));
    const z = logits.reduce((a, x) => a + Math.exp(x), 0);
    const want = logits.map((x, c) => ({ label: ['neg', 'neu', 'pos'][c]!, score: Math.exp(x) / z })).sort((a, b) => b.score - a.score);
    assert.deepEqual(scores!.map((s) => s.label), want.map((s) => s.label));
    assert.ok(maxDiff(scores!.map((s) => s.score), want.map((s) => s.score)) < 1e-5);
    await model.dispose();

    const lines: string[] = [];
    const partial = await loadInferenceModel(tinyHeadFolder(weights.tensors, 'BertForSequenceClassification', {}, ['a', 'b']), { log: (l) => lines.push(l) });
    assert.match(lines.join('\n'), /newly initialized: classifier.weight, classifier.bias/);
    await partial.dispose();
  });

  test('token classification and QA run end to end', async () => {
    const tc = await loadInferenceModel(tinyHeadFolder(weights.tensors, 'BertForTokenClassification', { 'classifier.weight': [3, H], 'classifier.bias': [3] }, ['O', 'B-X', 'I-X']), { log: () => {} });
    assert.equal(tc.task, 'token-classification');
    const [ents] = await tc.tokenClassify(['w10 w11 w12 w13']);
    for (const e of ents!) assert.ok(e.entity_group === 'X' && e.start < e.end && e.score > 0 && e.score <= 1);
    await tc.dispose();
    const qa = await loadInferenceModel(tinyHeadFolder(weights.tensors, 'BertForQuestionAnswering', { 'qa_outputs.weight': [2, H], 'qa_outputs.bias': [2] }), { log: () => {} });
    const [answers] = await qa.answer([{ question: 'w5 w6', context: 'w20 w21 w22 w23' }], 2);
    assert.equal(answers!.length, 2);
    assert.ok(answers![0]!.score >= answers![1]!.score);
    assert.match(answers![0]!.answer, /^w2\d( w2\d)*$/);
    // 80 context words do not fit in the model's 64 positions: read in two windows, so spans in the
    // last words (past any single truncated input) are reachable, and every span indexes the context.
    const words = Array.from({ length: 80 }, (_, i) => `w${i + 10}`);
    const context = words.join(' ');
    const [all] = await qa.answer([{ question: 'w5 w6', context }], 100000);
    for (const a of all!) assert.equal(context.slice(a.start, a.end), a.answer);
    const tailStart = context.indexOf(words[70]!);
    assert.ok(all!.some((a) => a.start >= tailStart), 'no span among the last 10 words');
    const scores = all!.map((a) => a.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
    assert.equal(new Set(all!.map((a) => `${a.start}:${a.end}`)).size, all!.length);
    await qa.dispose();
  });
});

describe('post-processing by hand', () => {
  test('length buckets: sorted by length, capped by count and padded tokens', () => {
    assert.deepEqual(lengthBuckets([5, 3, 9, 3, 4], { maxBatch: 2, maxTokens: 100 }), [[1, 3], [4, 0], [2]]);
    assert.deepEqual(lengthBuckets([10, 10, 10], { maxBatch: 8, maxTokens: 20 }), [[0, 1], [2]]);
  });

  test('entity grouping, HF "simple": B- starts a group, same tag joins, O dropped, mean score, char span', () => {
    const tok = tinyTokenizer();
    const enc = tok.encode('w10 w11 w12 w13 w14');
    // [CLS] w10 w11 w12 w13 w14 [SEP]; labels 0=O 1=B-X 2=I-X 3=B-Y
    const probs = [
      [1, 0, 0, 0],
      [0.1, 0.8, 0.1, 0],
      [0.1, 0.1, 0.6, 0.2],
      [0.9, 0.05, 0.05, 0],
      [0, 0.2, 0, 0.8],
      [0, 0.5, 0, 0.5],
      [1, 0, 0, 0],
    ];
    const ents = groupEntities(enc, probs, (i) => ['O', 'B-X', 'I-X', 'B-Y'][i]!);
    assert.deepEqual(ents, [
      { entity_group: 'X', score: (0.8 + 0.6) / 2, word: 'w10 w11', start: 0, end: 7 },
      { entity_group: 'Y', score: 0.8, word: 'w13', start: 12, end: 15 },
      { entity_group: 'X', score: 0.5, word: 'w14', start: 16, end: 19 },
    ]);
  });

  test('QA windows: the question with overlapping context windows doc_stride apart, covering the context', () => {
    const tok = tinyTokenizer();
    const context = 'w10 w11 w12 w13 w14 w15 w16 w17 w18 w19';
    const windows = qaWindows(tok, 'w5 w6', context, { max_length: 10, doc_stride: 2, max_question_length: 64 });
    // room for 10 - 2 - 3 = 5 context pieces: windows start at pieces 0, 2, 4 and 6 (which reaches the end)
    assert.deepEqual(windows.map((w) => w.tokens), [
      ['[CLS]', 'w5', 'w6', '[SEP]', 'w10', 'w11', 'w12', 'w13', 'w14', '[SEP]'],
      ['[CLS]', 'w5', 'w6', '[SEP]', 'w12', 'w13', 'w14', 'w15', 'w16', '[SEP]'],
      ['[CLS]', 'w5', 'w6', '[SEP]', 'w14', 'w15', 'w16', 'w17', 'w18', '[SEP]'],
      ['[CLS]', 'w5', 'w6', '[SEP]', 'w16', 'w17', 'w18', 'w19', '[SEP]'],
    ]);
    for (const w of windows) {
      w.tokens.forEach((t, i) => {
        if (w.sequence_ids[i] === 1) assert.equal(context.slice(...w.offsets[i]!), t);
        assert.equal(w.token_type_ids[i], i < 4 ? 0 : 1);
      });
    }
    // a context that fits is one window, the tokenizer's own pair encoding
    assert.deepEqual(qaWindows(tok, 'w5 w6', 'w10 w11', { max_length: 10, doc_stride: 2, max_question_length: 64 }), [tok.encode('w5 w6', 'w10 w11')]);
    assert.throws(() => qaWindows(tok, 'w5', context, { max_length: 10, doc_stride: 0, max_question_length: 64 }), /doc_stride must be a positive integer, got 0/);
    // a long question is cut to max_question_length pieces
    assert.deepEqual(qaWindows(tok, 'w5 w6 w7', 'w10', { max_length: 10, doc_stride: 2, max_question_length: 2 })[0]!.tokens, ['[CLS]', 'w5', 'w6', '[SEP]', 'w10', '[SEP]']);
  });

  test('QA windows merged: best first, a span seen in two windows once at its higher score, top k', () => {
    const a = (start: number, end: number, score: number) => ({ answer: `${start}-${end}`, start, end, score });
    const merged = mergeWindowAnswers([[a(0, 3, 0.5), a(4, 7, 0.2)], [a(4, 7, 0.6), a(8, 9, 0.1)]], 2);
    assert.deepEqual(merged, [a(4, 7, 0.6), a(0, 3, 0.5)]);
  });

  test('QA span: product of context-only softmaxes, end >= start', () => {
    const enc = tinyTokenizer().encode('w5', 'w10 w11 w12');
    // [CLS] w5 [SEP] w10 w11 w12 [SEP]: context tokens are 3..5
    const start = [9, 9, 0, Math.log(2), 0, Math.log(1), 0];
    const end = [9, 9, 0, 0, Math.log(3), 0, 0];
    const [best] = bestSpans(enc, start, end, 'w10 w11 w12', 1);
    // p_start = [2, 1, 1]/4, p_end = [1, 3, 1]/5: best (3, 4) = 2/4 * 3/5
    assert.deepEqual({ ...best, score: +best!.score.toFixed(12) }, { answer: 'w10 w11', score: 0.3, start: 0, end: 7 });
  });
});

describe('CLI', () => {
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', ...args], { input, encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });

  test('bert fill-mask prints one list per mask; bert embed - reads lines and prints one JSON line each', async () => {
    const dir = tinyModelFolder();
    const fm = cli(['fill-mask', '--model', dir, '--top-k', '2', 'w10 [MASK] w20']);
    assert.equal(fm.status, 0, fm.stderr);
    const preds = JSON.parse(fm.stdout) as Array<Array<{ score: number; token: number; token_str: string; sequence: string }>>;
    assert.equal(preds.length, 1);
    assert.equal(preds[0]!.length, 2);
    assert.ok(preds[0]![0]!.score >= preds[0]![1]!.score);

    const em = cli(['embed', '--model', dir, '--pooling', 'mean', '--no-fused', '-'], 'w10 w20\nw5\nw30 w31 w32\n');
    assert.equal(em.status, 0, em.stderr);
    const lines = em.stdout.trim().split('\n').map((l) => JSON.parse(l) as { embedding: number[] });
    assert.equal(lines.length, 3);
    const model = await loadInferenceModel(dir, { log: () => {} });
    const want = await model.embed(['w10 w20', 'w5', 'w30 w31 w32'], { pooling: 'mean' });
    await model.dispose();
    lines.forEach((l, i) => assert.ok(maxDiff(l.embedding, want[i]!) < 1e-4));

    const none = cli(['embed', '--model', dir, '--pooling', 'none', 'w5 w6']);
    assert.deepEqual((JSON.parse(none.stdout) as { tokens: string[] }).tokens, ['[CLS]', 'w5', 'w6', '[SEP]']);
    const bad = cli(['embed', '--model', dir, '--pooling', 'max', 'w5']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--pooling must be one of/);
  });
});
