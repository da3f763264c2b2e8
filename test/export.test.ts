import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { env, pipeline } from '@huggingface/transformers';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { exportModel } from '../src/inference/export.ts';
import { loadInferenceModel } from '../src/inference/pipeline.ts';
import { FIXTURE, tinyHeadFolder, tinyModelFolder } from './helpers/tiny-model.ts';

// transformers.js reads the exported folder from disk only: no hub, no network.
env.allowRemoteModels = false;

/** The three pipelines as this test calls them (their own types are a union over every task). */
type Pipe = (input: string | string[], options?: Record<string, unknown>) => Promise<unknown>;
type TensorOut = { dims: number[]; data: Float32Array };

/** Loads an exported folder in transformers.js by absolute path (its parent as localModelPath). */
async function tjs(task: 'feature-extraction' | 'fill-mask' | 'text-classification', folder: string, dtype: 'fp32' | 'q8' = 'fp32'): Promise<Pipe> {
  env.localModelPath = `${dirname(folder)}/`;
  return (await pipeline(task, basename(folder), { dtype })) as unknown as Pipe;
}

const exportTo = (model: string, opts: Parameters<typeof exportModel>[2] = {}) => {
  const out = join(mkdtempSync(join(tmpdir(), 'bert-export-')), 'model');
  exportModel(model, out, { log: () => {}, ...opts });
  return out;
};

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const TEXTS = ['w10 w20 w30', 'w5', 'w40 w41 w42 w43 w44'];

describe('bert export loads in transformers.js (offline, absolute path)', () => {
  test('folder layout: config (model_type, architecture from the task), tokenizer config, onnx files, README naming the task', () => {
    const out = exportTo(tinyModelFolder(), { quantize: 'int8' });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx', 'README.md']) assert.ok(existsSync(join(out, f)), f);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.model_type, 'bert');
    assert.deepEqual(config.architectures, ['BertForMaskedLM']); // default task of a BertForPreTraining checkpoint: fill-mask
    const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([tc.tokenizer_class, tc.do_lower_case, tc.pad_token, tc.mask_token, tc.model_max_length], ['BertTokenizer', true, '[PAD]', '[MASK]', 512]);
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /Task: `fill-mask`/);
  });

  test('feature-extraction: token states and mean pooling equal ours within 1e-5', async () => {
    const model = tinyModelFolder();
    const out = exportTo(model, { task: 'feature-extraction' });
    const ours = await loadInferenceModel(model, { log: () => {} });
    const extractor = await tjs('feature-extraction', out);
    for (const text of TEXTS) {
      const theirs = (await extractor(text)) as TensorOut;
      const [mine] = await ours.tokenStates([text]);
      assert.deepEqual(theirs.dims, [1, mine!.tokens.length, 32]);
      assert.ok(maxDiff(theirs.data as Float32Array, mine!.hidden_states.flat()) < 1e-5, text);
    }
    const pooled = (await extractor(TEXTS, { pooling: 'mean', normalize: true })) as TensorOut;
    const mine = await ours.embed(TEXTS, { pooling: 'mean', normalize: true });
    assert.ok(maxDiff(pooled.data as Float32Array, mine.flat()) < 1e-5);
    await ours.dispose();
  });

  test('fill-mask: same tokens, scores within 1e-5 (fp32); int8 (q8) picks near the same scores', async () => {
    const model = tinyModelFolder();
    const out = exportTo(model, { quantize: 'int8' });
    const ours = await loadInferenceModel(model, { log: () => {} });
    const unmasker = await tjs('fill-mask', out);
    for (const text of ['w10 [MASK] w20', '[MASK] w7 w8 w9']) {
      const theirs = (await unmasker(text, { top_k: 5 })) as Array<{ score: number; token: number; token_str: string }>;
      const mine = (await ours.fillMask([text], 5))[0]![0]!;
      assert.deepEqual(theirs.map((p) => p.token), mine.map((p) => p.token));
      assert.deepEqual(theirs.map((p) => p.token_str), mine.map((p) => p.token_str));
      assert.ok(maxDiff(theirs.map((p) => p.score), mine.map((p) => p.score)) < 1e-5, text);
    }
    const q8 = await tjs('fill-mask', out, 'q8');
    const theirs = (await q8('w10 [MASK] w20', { top_k: 99 })) as Array<{ score: number; token: number }>;
    const mine = (await ours.fillMask(['w10 [MASK] w20'], 99))[0]![0]!;
    const byId = new Map(mine.map((p) => [p.token, p.score]));
    assert.ok(maxDiff(theirs.map((p) => p.score), theirs.map((p) => byId.get(p.token)!)) < 0.01);
    await ours.dispose();
  });

  test('text-classification: id2label names (string keys in config.json), scores within 1e-5', async () => {
    const model = tinyHeadFolder(loadCheckpoint(FIXTURE).tensors, 'BertForSequenceClassification', { 'classifier.weight': [3, 32], 'classifier.bias': [3] }, ['neg', 'neu', 'pos']);
    const out = exportTo(model);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
    assert.deepEqual(config.id2label, { '0': 'neg', '1': 'neu', '2': 'pos' });
    const ours = await loadInferenceModel(model, { log: () => {} });
    const classifier = await tjs('text-classification', out);
    for (const text of TEXTS) {
      const theirs = (await classifier(text, { top_k: 3 })) as Array<{ label: string; score: number }>;
      const [mine] = await ours.classify([text]);
      assert.deepEqual(theirs.map((s) => s.label), mine!.map((s) => s.label));
      assert.ok(maxDiff(theirs.map((s) => s.score), mine!.map((s) => s.score)) < 1e-5, text);
    }
    await ours.dispose();
  });

  test('a task the checkpoint cannot serve is an error before anything is written', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bert-export-')), 'model');
    assert.throws(() => exportModel(tinyHeadFolder(loadCheckpoint(FIXTURE).tensors, 'BertModel', {}), out, { task: 'fill-mask', log: () => {} }), /has no cls\.predictions/);
    assert.equal(existsSync(out), false);
  });

  test('bert export CLI: --task and --quantize; a bad task exits 2 naming the choices', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bert-export-')), 'cli');
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', ...args], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
    const ok = cli(['export', '--model', tinyModelFolder(), '--out', out, '--task', 'feature-extraction', '--quantize', 'int8']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { task: string }).task, 'feature-extraction');
    assert.ok(existsSync(join(out, 'onnx', 'model_quantized.onnx')));
    const bad = cli(['export', '--model', tinyModelFolder(), '--out', out, '--task', 'summarization']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--task must be one of feature-extraction/);
  });
});
