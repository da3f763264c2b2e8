// The browser page end to end in Debian's headless chromium: open the tiny model, fine-tune on a
// separable task, and check the browser against Node: the same per-step losses (same model, data,
// seed), a learned task, and a downloaded folder that `bert predict` reads with the same predictions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listZip, readZipEntry } from '../src/checkpoint/zip.ts';
import { loadInferenceModel } from '../src/inference/pipeline.ts';
import { finetune } from '../src/train/finetune.ts';
import { buildWeb } from '../web/build.ts';
import { serveWeb, type WebServer } from '../web/serve.ts';
import { chromiumMissing, launchChromium, type Chromium } from './helpers/chromium.ts';
import { classificationFiles, tempDir } from './helpers/finetune-data.ts';
import { tinyModelFolder } from './helpers/tiny-model.ts';

const missing = chromiumMissing();
const SETTINGS = { epochs: 2, lr: 5e-3, batchSize: 16, maxSeqLength: 64, warmupRatio: 0.1, weightDecay: 0.01, seed: 42 };
const FIELDS: Record<keyof typeof SETTINGS, string> = {
  epochs: '#epochs', lr: '#lr', batchSize: '#batch-size', maxSeqLength: '#max-seq-length', warmupRatio: '#warmup-ratio', weightDecay: '#weight-decay', seed: '#seed',
};

let server: WebServer;
let browser: Chromium;
before(async () => {
  if (missing) return;
  // The tiny model is also served as the folder `npm start` would have made.
  server = await serveWeb((await buildWeb(join(tempDir(), 'web'))).dir, { modelDir: tinyModelFolder() });
  browser = await launchChromium();
});
after(async () => {
  if (missing) return;
  await browser.close();
  await server.close();
});

/** Waits for `predicate` in the page; a message on the page's error line fails at once, with the console. */
async function waitFor(predicate: string, timeout = 120_000): Promise<void> {
  const { page, log } = browser;
  await page.waitForFunction(`(${predicate}) || !document.getElementById('error').hidden`, null, { timeout });
  const error = await page.locator('#error');
  if (await error.isVisible()) assert.fail(`the page says: ${await error.textContent()}\n${log.join('\n')}`);
}

test('the page fine-tunes in chromium as Node does, learns the task, and its download loads in bert predict and bert serve\'s loader', { skip: missing }, async (t) => {
  const { page } = browser;
  const model = tinyModelFolder();
  const files = classificationFiles(tempDir(), 240, 1);
  const node = await finetune({ task: 'classification', model, train: files.train, dev: files.dev, out: join(tempDir(), 'node-model'), ...SETTINGS, threads: 1 });

  await page.goto(server.url);
  await waitFor(`!document.getElementById('backend').textContent.startsWith('starting')`);
  await page.setInputFiles('#model-files', readdirSync(model).map((f) => join(model, f)));
  await waitFor(`document.getElementById('model-status').textContent.startsWith('opened')`);
  await page.fill('#train-text', readFileSync(files.train, 'utf8'));
  await page.fill('#dev-text', readFileSync(files.dev, 'utf8'));
  for (const [k, sel] of Object.entries(FIELDS)) await page.fill(sel, String(SETTINGS[k as keyof typeof SETTINGS]));
  await page.click('#train');
  await waitFor(`document.body.dataset.trained !== undefined`);

  // (a) The same losses, step by step.
  const losses = JSON.parse((await page.getAttribute('body', 'data-losses'))!) as number[];
  assert.equal(losses.length, node.history.length);
  const diffs = losses.map((l, i) => Math.abs(l - node.history[i]!.loss));
  assert.ok(Math.max(...diffs) < 1e-4, `browser vs Node losses differ by up to ${Math.max(...diffs)}: ${JSON.stringify(losses)} vs ${JSON.stringify(node.history.map((r) => r.loss))}`);

  t.diagnostic(`${losses.length} steps; largest |browser - Node| loss difference ${Math.max(...diffs).toExponential(2)}`);

  // (b) Learned: the dev accuracy of the last epoch, as the page shows it.
  const evals = await page.locator('#evals li').allTextContents();
  const last = Number(/accuracy ([\d.]+)%/.exec(evals.at(-1) ?? '')?.[1]);
  assert.ok(last >= 90, `dev accuracy after training: ${evals.join('; ')}`);
  t.diagnostic(`dev accuracy per epoch: ${evals.join('; ')}`);
  assert.ok(losses.at(-1)! < losses[0]! / 2, `loss went from ${losses[0]} to ${losses.at(-1)}`);

  // (c) The downloaded zip is a model folder that `bert predict` reads, predicting what the page predicts.
  const dev = readFileSync(files.dev, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]!);
  await page.fill('#classify-text', dev.join('\n'));
  await page.click('#classify');
  await waitFor(`document.body.dataset.predictions !== undefined`);
  const inBrowser = JSON.parse((await page.getAttribute('body', 'data-predictions'))!) as Array<{ label: string; score: number }>;
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const zipPath = join(tempDir(), download.suggestedFilename());
  await download.saveAs(zipPath);
  const folder = join(tempDir(), 'downloaded');
  mkdirSync(folder);
  const zip = new Uint8Array(readFileSync(zipPath));
  for (const [name, entry] of listZip(zip, zipPath)) writeFileSync(join(folder, name), readZipEntry(zip, entry, zipPath));
  assert.deepEqual(readdirSync(folder).sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { id2label: Record<string, string>; architectures: string[] };
  assert.deepEqual(config.id2label, { 0: 'neg', 1: 'pos' });
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
  const out = join(tempDir(), 'predictions.jsonl');
  execFileSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', 'predict', '--model', folder, '--task', 'classification', '--data', files.dev, '--max-seq-length', '64', '--out', out]);
  const cli = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string; probabilities: Record<string, number> });
  assert.deepEqual(cli.map((r) => r.label), inBrowser.map((r) => r.label));
  cli.forEach((r, i) => assert.ok(Math.abs(r.probabilities[r.label]! - inBrowser[i]!.score) < 1e-4, `example ${i}: ${JSON.stringify(r)} vs ${JSON.stringify(inBrowser[i])}`));
  // `bert serve` loads the folder through loadInferenceModel.
  const served = await loadInferenceModel(folder, { log: () => {} });
  assert.deepEqual((await served.classify(dev)).map((r) => r[0]!.label), inBrowser.map((r) => r.label));
  await served.dispose();
  rmSync(folder, { recursive: true });
});

test('in chromium, a folder without weights gets a message on the page; the served model opens; Stop ends training early', { skip: missing }, async () => {
  const { page } = browser;
  const model = tinyModelFolder();
  await page.goto(server.url);
  await page.setInputFiles('#model-files', [join(model, 'config.json'), join(model, 'vocab.txt')]);
  await page.waitForSelector('#error:not([hidden])');
  assert.match((await page.textContent('#error'))!, /no model\.safetensors among the opened files/);

  await page.click('#served-model');
  await waitFor(`document.getElementById('model-status').textContent.startsWith('opened')`);
  await page.fill('#train-text', readFileSync(classificationFiles(tempDir(), 240, 2).train, 'utf8'));
  await page.fill('#epochs', '100');
  await page.fill('#max-seq-length', '64');
  await page.click('#train');
  await waitFor(`/^step [3-9]/.test(document.getElementById('train-status').textContent)`);
  await page.click('#stop');
  await waitFor(`document.body.dataset.trained !== undefined`);
  const steps = Number(await page.getAttribute('body', 'data-trained'));
  assert.ok(steps >= 3 && steps < 1500, `trained ${steps} of 1500 steps`);
  assert.match((await page.textContent('#train-status'))!, /^stopped after \d+ steps/);
});
