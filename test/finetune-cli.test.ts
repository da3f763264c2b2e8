// bert finetune / eval / predict through the CLI: output shapes, saved labels, and label errors that name the line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateModel, predictRecords } from '../src/train/finetune-eval.ts';
import { finetune } from '../src/train/finetune.ts';
import * as data from './helpers/finetune-data.ts';
import { tinyModelFolder } from './helpers/tiny-model.ts';

// A child process: the test runner reports over this process's stdout, so the CLI must not write there.
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', ...args], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const common = ['--epochs', '3', '--lr', '5e-3', '--batch-size', '16', '--max-seq-length', '64'];
const jsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('finetune + eval + predict for classification: metrics JSON, one label with probabilities per input, a log', async () => {
  const dir = data.tempDir();
  const files = data.classificationFiles(dir, 160, 11);
  const out = join(dir, 'model');
  const ft = await run(['finetune', '--task', 'classification', '--model', tinyModelFolder(), '--train', files.train, '--dev', files.dev, '--out', out, ...common]);
  assert.equal(ft.code, 0, ft.stderr);
  const summary = JSON.parse(ft.stdout);
  assert.equal(summary.best.main, 'accuracy');
  const log = jsonl(join(out, 'log.jsonl'));
  assert.equal(log.filter((r) => 'loss' in r).length, 30); // 160 / 16 * 3 steps
  assert.equal(log.filter((r) => 'dev_accuracy' in r).length, 3);

  const ev = await run(['eval', '--model', out, '--task', 'classification', '--data', files.dev, '--max-seq-length', '64']);
  assert.equal(ev.code, 0, ev.stderr);
  const metrics = JSON.parse(ev.stdout);
  assert.equal(metrics.examples, 40);
  assert.equal(metrics.accuracy, summary.best.metrics.accuracy);

  const pred = join(dir, 'pred.jsonl');
  const pr = await run(['predict', '--model', out, '--task', 'classification', '--data', files.dev, '--out', pred, '--max-seq-length', '64']);
  assert.equal(pr.code, 0, pr.stderr);
  const rows = jsonl(pred);
  assert.equal(rows.length, 40);
  const gold = readFileSync(files.dev, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[1]);
  let right = 0;
  rows.forEach((r, i) => {
    const p = r.probabilities as Record<string, number>;
    assert.deepEqual(Object.keys(p), ['neg', 'pos']);
    assert.ok(Math.abs(p.neg! + p.pos! - 1) < 1e-6);
    assert.equal(r.label, p.pos! > p.neg! ? 'pos' : 'neg');
    if (r.label === gold[i]) right++;
  });
  assert.equal(right / 40, metrics.accuracy); // predict and eval agree
});

test('predict/eval shapes for NER (a tag per word), regression (a value), QA (answer = context slice), multiple choice (an ending index)', async () => {
  const dir = data.tempDir();
  const cases: Array<{ task: string; files: { train: string; dev: string }; labelColumn?: string; check: (r: Record<string, unknown>, i: number) => void }> = [
    {
      task: 'ner',
      files: data.conllFiles(dir, 64, 12),
      check: (r) => {
        assert.equal((r.tags as string[]).length, (r.words as string[]).length);
        for (const t of r.tags as string[]) assert.ok(t === 'O' || t === 'B-PER');
      },
    },
    { task: 'regression', files: data.regressionFiles(dir, 64, 13), labelColumn: 'score', check: (r) => assert.equal(typeof r.value, 'number') },
    {
      task: 'squad',
      files: data.squadFiles(dir, 64, 14),
      check: (r) => {
        const ctx = (JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')).data[0].paragraphs as Array<{ context: string; qas: Array<{ id: string }> }>).find((p) => p.qas[0]!.id === r.id)!.context;
        assert.equal(ctx.slice(r.start as number, r.end as number), r.answer);
        assert.equal(typeof r.score, 'number');
      },
    },
    {
      task: 'multiple-choice',
      files: data.swagFiles(dir, 64, 15),
      check: (r) => {
        assert.equal((r.probabilities as number[]).length, 4);
        assert.ok([0, 1, 2, 3].includes(r.label as number));
      },
    },
  ];
  // In process (spawning costs seconds a command): the library functions the commands call.
  for (const c of cases) {
    const out = join(dir, `model-${c.task}`);
    const columns = c.labelColumn ? { labelColumn: c.labelColumn } : undefined;
    await finetune({
      task: c.task, model: tinyModelFolder(), ...c.files, out, epochs: 1, lr: 5e-3, batchSize: 16, maxSeqLength: 64, warmupRatio: 0, weightDecay: 0, seed: 1, columns,
    });
    const rows = await predictRecords({ model: out, task: c.task, data: c.files.dev, maxSeqLength: 64, columns });
    assert.equal(rows.length, 16, c.task); // ceil(64 / 4) dev inputs
    rows.forEach(c.check);
    const ev = await evaluateModel({ model: out, task: c.task, data: c.files.dev, maxSeqLength: 64, columns });
    assert.equal(ev.examples, 16);
  }
});

test('a dev label the training set never saw is an error naming the file and line', async () => {
  const dir = data.tempDir();
  const files = data.classificationFiles(dir, 32, 16);
  const lines = readFileSync(files.dev, 'utf8').split('\n');
  lines[3] = lines[3]!.replace(/\t\w+$/, '\tneutral');
  writeFileSync(files.dev, lines.join('\n'));
  const r = await run(['finetune', '--task', 'classification', '--model', tinyModelFolder(), '--train', files.train, '--dev', files.dev, '--out', join(dir, 'out'), '--epochs', '1', '--max-seq-length', '64']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${files.dev.replace(/[/.]/g, '\\$&')}:4.*label "neutral" is not one of the training labels \\["neg","pos"\\]`));
});

test('an unseen NER tag in dev names its sentence; an unknown task lists the tasks', async () => {
  const dir = data.tempDir();
  const files = data.conllFiles(dir, 16, 17);
  writeFileSync(files.dev, 'w30\tO\nw5\tB-LOC\n');
  const r = await run(['finetune', '--task', 'ner', '--model', tinyModelFolder(), '--train', files.train, '--dev', files.dev, '--out', join(dir, 'out'), '--max-seq-length', '64']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /dev\.conll:1.*label "B-LOC" is not one of the training labels/);
  const bad = await run(['finetune', '--task', 'sentiment', '--model', tinyModelFolder(), '--train', files.train, '--dev', files.dev, '--out', join(dir, 'out'), '--max-seq-length', '64']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown task "sentiment"; tasks are sst2, .* multiple-choice/);
});
