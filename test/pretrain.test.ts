import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { brownDocuments, brownPretrainingText } from '../src/data/brown.ts';
import { openPretrainingData } from '../src/data/dataset.ts';
import { makePretrainingData } from '../src/data/make.ts';
import { makeConfig, type BertConfig } from '../src/model/config.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { trainWordPieceVocab } from '../src/tokenizer/train.ts';
import { listCheckpoints, optimizerStatePath, readTrainingState } from '../src/train/checkpoints.ts';
import { AdamW } from '../src/train/optimizer.ts';
import { loadOptimizerState } from '../src/train/optimizer-file.ts';
import { pretrain, type PretrainOptions } from '../src/train/pretrain.ts';
import { runCli } from './helpers/cli-in-process.ts';

// A small corpus (40 Brown documents), a 400-token vocabulary and a tiny model: seconds per run.
let work: string;
let data: string;
let small: string;
let tokenizerDir: string;
let config: BertConfig;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'bert-pretrain-'));
  const text = join(work, 'corpus.txt');
  writeFileSync(text, brownPretrainingText(brownDocuments().slice(0, 40)));
  const tokenizer = trainWordPieceVocab([text], { vocabSize: 400, lowercase: true });
  tokenizerDir = join(work, 'tokenizer');
  tokenizer.save(tokenizerDir);
  data = join(work, 'data');
  await makePretrainingData({
    inputs: [text], tokenizer, out: data, format: 'shards', max_seq_length: 32, max_predictions_per_seq: 5,
    masked_lm_prob: 0.15, short_seq_prob: 0.1, dupe_factor: 2, whole_word_mask: false, split_sentences: false, seed: 1, workers: 0,
  });
  // two documents: a few micro-batches per epoch, so short runs cross epoch boundaries
  const smallText = join(work, 'small.txt');
  writeFileSync(smallText, brownPretrainingText(brownDocuments().slice(0, 2)));
  small = join(work, 'small-data');
  await makePretrainingData({
    inputs: [smallText], tokenizer, out: small, format: 'shards', max_seq_length: 32, max_predictions_per_seq: 5,
    masked_lm_prob: 0.15, short_seq_prob: 0.1, dupe_factor: 1, whole_word_mask: false, split_sentences: false, seed: 1, workers: 0,
  });
  config = makeConfig({ vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 });
});

const options = (out: string, over: Partial<PretrainOptions> = {}): PretrainOptions => ({
  data, config, tokenizerDir, out, batchSize: 16, lr: 2e-3, warmupSteps: 2, steps: 8, weightDecay: 0.01, maxGradNorm: 1,
  gradAccum: 1, accumulate: 'graph', seed: 7, shuffle: true, saveEvery: 0, keepLast: 2, resume: false, threads: 1, ...over,
});

describe('pre-training loop', () => {
  test('tiny-config training drives the loss clearly down', async () => {
    const r = await pretrain(options(join(work, 'learn'), { steps: 150, warmupSteps: 10, lr: 5e-3 }));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(r.history.slice(0, 5).map((h) => h.loss));
    const last = mean(r.history.slice(-5).map((h) => h.loss));
    // from ln(V) + ln 2 at init to below the unigram level of the masked tokens plus chance NSP
    assert.ok(last < first - 0.6, `loss went from ${first.toFixed(3)} to ${last.toFixed(3)}`);
    assert.ok(existsSync(join(work, 'learn', 'model.safetensors')), 'final model saved');
    assert.equal(loadCheckpoint(join(work, 'learn')).config.architectures?.[0], 'BertForPreTraining');
  });

  test('N steps, then --resume for N more, gives the same losses as 2N straight (micro-batches summed in the graph or on the host)', async () => {
    const straight = await pretrain(options(join(work, 'straight'), { gradAccum: 2, accumulate: 'host' }));
    const out = join(work, 'resumed');
    const firstHalf = await pretrain(options(out, { gradAccum: 2, stopAfter: 4 }));
    assert.equal(firstHalf.steps, 4);
    const secondHalf = await pretrain(options(out, { gradAccum: 2, resume: true }));
    assert.deepEqual(secondHalf.history.map((h) => h.loss), straight.history.map((h) => h.loss));
    const a = loadCheckpoint(join(work, 'straight')).tensors;
    const b = loadCheckpoint(out).tensors;
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${name} after 8 steps`);
  });

  test('a resume across epoch boundaries gives the losses of the straight run', async () => {
    const size = openPretrainingData(small).size;
    const steps = Math.ceil((3 * size) / 16); // about three epochs of 16-example steps
    assert.ok(size >= 32 && size < 200, `small data has ${size} examples`);
    const straight = await pretrain(options(join(work, 'epochs-straight'), { data: small, steps }));
    const out = join(work, 'epochs-resumed');
    const perEpoch = Math.floor(size / 16);
    await pretrain(options(out, { data: small, steps, stopAfter: perEpoch + 1 }));
    // one full epoch (the partial last batch dropped) and one batch of the next, in the next epoch's order
    const stopped = readTrainingState(listCheckpoints(out).at(-1)!.dir);
    assert.deepEqual([stopped.step, stopped.epoch, stopped.position], [perEpoch + 1, 1, 16]);
    const resumed = await pretrain(options(out, { data: small, steps, resume: true }));
    assert.deepEqual(resumed.history.map((h) => h.loss), straight.history.map((h) => h.loss));
  });

  test('a kill at any moment (also mid-save) leaves every remaining checkpoint loadable, and --resume continues', async () => {
    const out = join(work, 'killed');
    const args = ['--import', 'tsx', 'test/helpers/bert-cli.ts', 'pretrain', '--data', data, '--config', join(work, 'config.json'),
      '--tokenizer', tokenizerDir, '--out', out, '--batch-size', '16', '--steps', '100000', '--save-every', '1', '--keep-last', '2', '--threads', '1'];
    writeFileSync(join(work, 'config.json'), JSON.stringify({ ...config, model_type: 'bert' }));
    // Each run is killed a different time after it has saved once more than the run before it left,
    // so the kill lands at various points of the save cycle whatever the machine's load.
    for (const delayMs of [0, 600, 1200]) {
      const savedBefore = listCheckpoints(out).at(-1)?.step ?? 0;
      const child = spawn(process.execPath, [...args, ...(existsSync(out) ? ['--resume'] : [])], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      const deadline = Date.now() + 120_000;
      while ((listCheckpoints(out).at(-1)?.step ?? 0) <= savedBefore) {
        assert.ok(Date.now() < deadline && child.exitCode === null, 'the run saves a checkpoint within two minutes');
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, delayMs));
      assert.equal(child.exitCode, null, 'the run is still going when it is killed');
      child.kill('SIGKILL');
      await exited;
      const cks = listCheckpoints(out);
      assert.ok(cks.length > 0, `a checkpoint exists after a kill ${delayMs} ms past a save`);
      for (const c of cks) {
        const ck = loadCheckpoint(c.dir);
        const st = readTrainingState(c.dir);
        assert.equal(st.step, c.step);
        loadOptimizerState(new AdamW(ck.tensors), optimizerStatePath(c.dir));
      }
    }
    const before = listCheckpoints(out).at(-1)!.step;
    const resumed = await pretrain(options(out, { config: { ...config }, steps: 100000, saveEvery: 1, resume: true, stopAfter: before + 2, batchSize: 16, lr: 1e-4, warmupSteps: 10000, seed: 42 }));
    assert.equal(resumed.steps, before + 2);
    assert.ok(readdirSync(out).every((f) => !f.endsWith('.tmp') || f.startsWith('.')), 'temp folders are hidden');
  });
});

describe('continued pre-training (--init)', () => {
  test("--init alone: the folder's config.json is the config, its tokenizer files go into every checkpoint and the final model", async () => {
    const base = join(work, 'init-base');
    await pretrain(options(base, { steps: 2 }));
    const out = join(work, 'init-continued');
    const r = await runCli(['pretrain', '--data', data, '--init', base, '--out', out, '--steps', '2', '--batch-size', '16', '--save-every', '1', '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    const folder = loadCheckpoint(out);
    assert.equal(folder.config.hidden_size, config.hidden_size);
    assert.equal(folder.config.vocab_size, config.vocab_size);
    for (const dir of [out, ...listCheckpoints(out).map((c) => c.dir)]) assert.ok(existsSync(join(dir, 'vocab.txt')), `vocab.txt in ${dir}`);
    // The saved folder is a model `bert embed` can load: weights, config and tokenizer.
    assert.equal(BertTokenizer.fromDirectory(out).vocabSize, config.vocab_size);
  });

  test('a --config that contradicts the --init folder is an error naming both', async () => {
    const base = join(work, 'init-base-2');
    await pretrain(options(base, { steps: 2 }));
    const r = await runCli(['pretrain', '--data', data, '--init', base, '--config', 'tiny', '--out', join(work, 'init-bad'), '--steps', '1', '--threads', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--config tiny \(hidden_size 128.*contradicts --init .*init-base-2.*hidden_size 32/);
  });

  test('without --init, --config is required', async () => {
    const r = await runCli(['pretrain', '--data', data, '--out', join(work, 'no-config'), '--steps', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--config is required without --init/);
  });
});
