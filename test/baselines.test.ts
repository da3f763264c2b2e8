import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { baselines } from '../src/data/baselines.ts';

/** One JSONL example of 6 tokens with up to 2 masked positions. */
function example(input_ids: number[], masked: [number, number][], label: number) {
  const slots = [...masked, ...Array<[number, number]>(2 - masked.length).fill([0, 0])];
  return JSON.stringify({
    input_ids,
    input_mask: input_ids.map((id) => (id === 0 ? 0 : 1)),
    segment_ids: input_ids.map(() => 0),
    masked_lm_positions: slots.map(([p]) => p),
    masked_lm_ids: slots.map(([, y]) => y),
    masked_lm_weights: slots.map((_, i) => (i < masked.length ? 1 : 0)),
    next_sentence_labels: [label],
  });
}

test('context-free baselines of a hand-worked example: most frequent token, copying the input, their best mix, majority label', () => {
  // [CLS] = 2, [SEP] = 3, [MASK] = 4, vocabulary of 10.
  const dir = mkdtempSync(join(tmpdir(), 'bert-baselines-'));
  try {
    const train = join(dir, 'train.jsonl');
    const heldOut = join(dir, 'heldout.jsonl');
    // Answers 5, 5, 7, 6, 5: token 5 is the most frequent. Of the two inputs that are not [MASK], one (7)
    // is the answer and one (9 for 6) is not, so the input is the answer half the time there.
    writeFileSync(train, [
      example([2, 4, 6, 4, 3, 0], [[1, 5], [3, 5]], 0),
      example([2, 7, 8, 9, 3, 0], [[1, 7], [3, 6]], 1),
      example([2, 4, 5, 3, 0, 0], [[1, 5]], 0),
    ].join('\n') + '\n');
    writeFileSync(heldOut, [
      example([2, 4, 8, 4, 3, 0], [[1, 5], [3, 8]], 1),
      example([2, 6, 9, 3, 0, 0], [[1, 6], [2, 7]], 0),
    ].join('\n') + '\n');
    const b = baselines(train, heldOut, { maskId: 4, vocabSize: 10 });

    // Add-one frequencies over 5 answers and 10 tokens: 5 -> 4/15, 6 and 7 -> 2/15, the rest 1/15.
    // Held out: [MASK] for 5 (4/15), [MASK] for 8 (1/15), 6 for 6 (1/2 + 1/2 * 2/15), 9 for 7 (1/2 * 2/15).
    const perplexity = Math.exp(-(Math.log(4 / 15) + Math.log(1 / 15) + Math.log(0.5 + 1 / 15) + Math.log(1 / 15)) / 4);
    assert.equal(b.heldOut.mlm, 1 / 4);
    assert.equal(b.heldOut.mlm_copy, 2 / 4);
    assert.ok(Math.abs(b.heldOut.mlm_perplexity - perplexity) < 1e-9 * perplexity, `${b.heldOut.mlm_perplexity} vs ${perplexity}`);
    assert.equal(b.heldOut.nsp, 1 / 2);

    assert.equal(b.train.mlm, 3 / 5);
    assert.equal(b.train.mlm_copy, 4 / 5);
    assert.equal(b.train.nsp, 2 / 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
