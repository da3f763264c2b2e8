import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runStartJob } from '../src/cli/start-job.ts';
import { openPretrainingData } from '../src/data/dataset.ts';

/** Next-sentence labels and masked-token counts of a data set, read directly. */
function readLabels(path: string): { labels: number[]; tokens: Map<bigint, number> } {
  const ds = openPretrainingData(path);
  const b = ds.batch(Array.from({ length: ds.size }, (_, i) => i));
  ds.close();
  const tokens = new Map<bigint, number>();
  for (const id of b.masked_lm_ids) if (id >= 0n) tokens.set(id, (tokens.get(id) ?? 0) + 1);
  return { labels: Array.from(b.next_sentence_label, Number), tokens };
}

test("npm start's job: Brown split by document, vocabulary, data, pre-training, held-out scores against baselines, curves", async () => {
  const out = mkdtempSync(join(tmpdir(), 'bert-start-'));
  try {
    const lines: string[] = [];
    const summary = await runStartJob({
      out, config: 'tiny', steps: 2, batchSize: 2, maxSeqLength: 32, vocabSize: 300, lr: 1e-3, seed: 1, holdOutEvery: 20, finetune: false,
      log: (l) => lines.push(l),
    });
    assert.match(lines.join('\n'), /475 documents for training, 25 held out/);
    assert.match(lines.join('\n'), /without context: \d+\.\d%, perplexity \d+\.\d/);
    assert.equal(summary.pretrain.steps, 2);
    assert.equal(summary.finetune, undefined);

    // The baselines, recomputed here: the training data's majority label and most frequent masked
    // token, scored on the held-out data.
    const train = readLabels(join(out, 'pretraining-data'));
    const heldOut = readLabels(join(out, 'heldout-data'));
    const majority = train.labels.filter((l) => l === 1).length * 2 > train.labels.length ? 1 : 0;
    assert.equal(summary.baseline.nsp, heldOut.labels.filter((l) => l === majority).length / heldOut.labels.length);
    const top = [...train.tokens].sort((a, b) => b[1] - a[1])[0]![0];
    const masked = [...heldOut.tokens.values()].reduce((a, b) => a + b, 0);
    assert.equal(summary.baseline.mlm, (heldOut.tokens.get(top) ?? 0) / masked);

    const e = summary.pretrain.eval!;
    assert.equal(e.examples, heldOut.labels.length);
    assert.ok(e.mlm_accuracy >= 0 && e.mlm_accuracy <= 1 && e.nsp_accuracy >= 0 && e.nsp_accuracy <= 1);

    const model = join(out, 'model');
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'log.jsonl', 'loss.svg', 'accuracy.svg']) assert.ok(existsSync(join(model, f)), f);
    assert.equal(readFileSync(join(model, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
    assert.match(readFileSync(join(model, 'accuracy.svg'), 'utf8'), /data-series="nsp_accuracy baseline"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
