// The paper's example-making procedure, measured on generated data: masking rates, whole-word
// groups, pair labels and lengths; plus the PRNG and sentence splitter it rests on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createInstancesFromDocument,
  createMaskedLmPredictions,
  documentChunk,
  maskingVocab,
  roundHalfEven,
  type InstanceOptions,
} from '../src/data/instances.ts';
import { Rng } from '../src/data/random.ts';
import type { PretrainingExample } from '../src/data/records.ts';
import { splitSentences } from '../src/data/sentences.ts';
import { fakeTokenizer } from './helpers/pretraining-data-fakes.ts';

const tok = fakeTokenizer(300);
const vocab = maskingVocab(tok.vocab(), tok.specialIds);
const { cls, sep, mask } = tok.specialIds;

const OPTS: InstanceOptions = {
  max_seq_length: 64,
  short_seq_prob: 0.1,
  masked_lm_prob: 0.15,
  max_predictions_per_seq: 10,
  whole_word_mask: false,
};

/** Documents of random sentences of ids; words with id >= firstMulti are followed by two ## pieces. */
function randomDocs(seed: number, numDocs: number, sentLen: [number, number], numSent: [number, number]): number[][][] {
  const rng = Rng.fromSeed(seed);
  const word0 = 7; // first word id in the fake vocabulary
  const docs: number[][][] = [];
  for (let d = 0; d < numDocs; d++) {
    const doc: number[][] = [];
    const ns = rng.randint(numSent[0], numSent[1]);
    for (let s = 0; s < ns; s++) {
      const sentence: number[] = [];
      const nw = rng.randint(sentLen[0], sentLen[1]);
      for (let w = 0; w < nw; w++) {
        const id = word0 + rng.randint(0, 299);
        sentence.push(id);
        if (id - word0 >= 100) sentence.push(5, 6); // ##x ##y
      }
      doc.push(sentence);
    }
    docs.push(doc);
  }
  return docs;
}

function allInstances(docs: number[][][], opts: InstanceOptions, seed: number): PretrainingExample[] {
  const chunk = documentChunk(docs);
  const rng = Rng.fromSeed(seed);
  const out: PretrainingExample[] = [];
  for (let d = 0; d < docs.length; d++) out.push(...createInstancesFromDocument(chunk, d, opts, vocab, rng));
  return out;
}

/** The unmasked sequence: masked_lm_ids put back at their positions. */
function original(ex: PretrainingExample): number[] {
  const ids = Array.from(ex.input_ids);
  for (let k = 0; k < ex.masked_lm_positions.length; k++) ids[ex.masked_lm_positions[k]!] = ex.masked_lm_ids[k]!;
  return ids;
}

test('Rng: same seed same stream, state save/restore, randint covers its range uniformly', () => {
  const a = Rng.fromSeed(42);
  const b = Rng.fromSeed(42);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.nextUint32()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 100 }, () => Rng.fromSeed(43).nextUint32()),
    xs,
  );
  const saved = a.state();
  const next = [a.random(), a.randint(0, 9), a.nextUint32()];
  const restored = Rng.fromState(saved);
  assert.deepEqual([restored.random(), restored.randint(0, 9), restored.nextUint32()], next);
  const counts = new Array<number>(6).fill(0);
  const r = Rng.fromSeed(7);
  for (let i = 0; i < 60000; i++) counts[r.randint(1, 6) - 1]!++;
  // Each face ~10000, sd ~91: 5 sd bounds.
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 460, `randint counts ${counts}`);
  let sum = 0;
  for (let i = 0; i < 100000; i++) {
    const u = r.random();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 100000 - 0.5) < 0.005);
});

test('roundHalfEven matches Python round() (num_to_predict)', () => {
  // Python: round(4.5)=4, round(1.5)=2, round(30*0.15)=4, round(128*0.15)=19, round(10*0.15)=2
  assert.deepEqual([4.5, 1.5, 30 * 0.15, 128 * 0.15, 10 * 0.15, 2.5, 0.4].map(roundHalfEven), [4, 2, 4, 19, 2, 2, 0]);
});

test('splitSentences: English with abbreviations and initials, Chinese punctuation', () => {
  assert.deepEqual(splitSentences('Mr. Smith went to Washington. He met J. R. Jones! Did it rain? Yes.'), [
    'Mr. Smith went to Washington.',
    'He met J. R. Jones!',
    'Did it rain?',
    'Yes.',
  ]);
  assert.deepEqual(splitSentences('It cost 3.5 dollars. "Really?" she asked. ok'), ['It cost 3.5 dollars.', '"Really?" she asked. ok']);
  assert.deepEqual(splitSentences('今天天气很好。我们去公园吧！你来吗？好'), ['今天天气很好。', '我们去公园吧！', '你来吗？', '好']);
});

test('masking: 15% of tokens (rounded, capped), 80/10/10, never [CLS]/[SEP]', () => {
  const docs = randomDocs(1, 400, [3, 12], [4, 14]);
  const instances = allInstances(docs, OPTS, 11);
  let predictions = 0;
  let masked = 0;
  let kept = 0;
  let replaced = 0;
  for (const ex of instances) {
    const n = ex.input_ids.length;
    const p = ex.masked_lm_positions.length;
    assert.equal(p, Math.min(OPTS.max_predictions_per_seq, Math.max(1, roundHalfEven(n * 0.15))));
    const orig = original(ex);
    assert.equal(orig[0], cls);
    assert.equal(orig[n - 1], sep);
    for (let k = 0; k < p; k++) {
      const pos = ex.masked_lm_positions[k]!;
      if (k > 0) assert.ok(pos > ex.masked_lm_positions[k - 1]!, 'positions ascending, distinct');
      assert.ok(orig[pos] !== cls && orig[pos] !== sep, 'never a special position');
      const now = ex.input_ids[pos];
      if (now === mask) masked++;
      else if (now === orig[pos]) kept++;
      else replaced++;
      predictions++;
    }
    // Outside the predictions, nothing changed (the [SEP]s included).
    const touched = new Set(Array.from(ex.masked_lm_positions));
    for (let i = 0; i < n; i++) if (!touched.has(i)) assert.equal(ex.input_ids[i], orig[i]);
  }
  const f = (x: number): number => x / predictions;
  // predictions ~ 20k: sd of a fraction <= 0.0035; bounds are > 4 sd. A random replacement equals
  // the original with probability 1/307, which moves ~0.03% from replaced to kept.
  assert.ok(predictions > 10000, `${predictions} predictions`);
  assert.ok(Math.abs(f(masked) - 0.8) < 0.015, `[MASK] ${f(masked)}`);
  assert.ok(Math.abs(f(kept) - 0.1) < 0.012, `kept ${f(kept)}`);
  assert.ok(Math.abs(f(replaced) - 0.1) < 0.012, `random ${f(replaced)}`);
});

test('whole-word masking keeps each word (piece + its ## pieces) together', () => {
  const docs = randomDocs(2, 300, [3, 10], [4, 12]);
  const opts = { ...OPTS, whole_word_mask: true, max_predictions_per_seq: 20 };
  const instances = allInstances(docs, opts, 12);
  let groupsSeen = 0;
  let totalPred = 0;
  let totalTarget = 0;
  for (const ex of instances) {
    const orig = original(ex);
    const chosen = new Set(Array.from(ex.masked_lm_positions));
    for (let i = 1; i < orig.length; i++) {
      if (!vocab.is_continuation[orig[i]!]) continue;
      // A ## piece is masked exactly when the token before it (same word) is.
      if (!vocab.is_continuation[orig[i - 1]!] && orig[i - 1] !== sep && orig[i - 1] !== cls) {
        assert.equal(chosen.has(i), chosen.has(i - 1), 'word start and ## piece chosen together');
        if (chosen.has(i)) groupsSeen++;
      } else if (vocab.is_continuation[orig[i - 1]!]) {
        assert.equal(chosen.has(i), chosen.has(i - 1));
      }
    }
    const target = Math.min(20, Math.max(1, roundHalfEven(orig.length * 0.15)));
    assert.ok(ex.masked_lm_positions.length <= target);
    totalPred += ex.masked_lm_positions.length;
    totalTarget += target;
  }
  assert.ok(groupsSeen > 500, `${groupsSeen} multi-piece words masked`);
  // Whole words that would overshoot are skipped, so the budget is met almost always, not exactly.
  assert.ok(totalPred / totalTarget > 0.97, `${totalPred}/${totalTarget}`);
});

test('masking a hand example: budget round(10*0.15)=2, specials skipped, draws reproducible', () => {
  const ids = Int32Array.from([cls, 10, 11, 12, sep, 13, 14, 15, 16, sep]);
  const a = ids.slice();
  const r1 = createMaskedLmPredictions(a, OPTS, vocab, Rng.fromSeed(5));
  const b = ids.slice();
  const r2 = createMaskedLmPredictions(b, OPTS, vocab, Rng.fromSeed(5));
  assert.deepEqual(a, b);
  assert.deepEqual(r1, r2);
  assert.equal(r1.masked_lm_positions.length, 2);
  for (const p of r1.masked_lm_positions) assert.ok(![0, 4, 9].includes(p));
  assert.deepEqual(Array.from(r1.masked_lm_ids), Array.from(r1.masked_lm_positions).map((p) => ids[p]));
});

test('pairs: ~50% NotNext, A and B non-empty, lengths within max, IsNext B continues A', () => {
  const docs = randomDocs(3, 600, [3, 12], [6, 20]);
  const instances = allInstances(docs, OPTS, 13);
  const chunk = documentChunk(docs);
  const text = `,${Array.from(chunk.tokens).join(',')},`;
  let notNext = 0;
  for (const ex of instances) {
    const n = ex.input_ids.length;
    assert.ok(n <= OPTS.max_seq_length);
    const orig = original(ex);
    const firstB = Array.from(ex.segment_ids).indexOf(1);
    assert.ok(firstB >= 3, 'A has at least one token');
    assert.ok(n - firstB >= 2, 'B has at least one token');
    assert.equal(orig[firstB - 1], sep);
    for (let i = 0; i < n; i++) assert.equal(ex.segment_ids[i], i < firstB ? 0 : 1);
    if (ex.next_sentence_label === 1) notNext++;
    else {
      // IsNext: A and B are each a run of the text; untruncated (shorter than the maximum), A then B
      // is one contiguous run of the document.
      const a = orig.slice(1, firstB - 1);
      const b = orig.slice(firstB, n - 1);
      assert.ok(text.includes(`,${a.join(',')},`) && text.includes(`,${b.join(',')},`), 'A and B are runs of the text');
      if (n < OPTS.max_seq_length) assert.ok(text.includes(`,${[...a, ...b].join(',')},`), 'IsNext B continues A');
    }
  }
  const frac = notNext / instances.length;
  // A run of a single sentence (often a document's last) is always NotNext, as in the original, so
  // with short documents the rate sits above 1/2 (0.58 here) ...
  assert.ok(instances.length > 3000, `${instances.length} instances`);
  assert.ok(frac > 0.5 && frac < 0.63, `NotNext fraction ${frac}`);
  // ... and tends to 1/2 as documents get long (200 sentences of 4 tokens: ~17k pairs, sd 0.004).
  const long = randomDocs(5, 1000, [4, 4], [200, 200]).map((d) => d.map((x) => x.slice(0, 4)));
  const longInstances = allInstances(long, { ...OPTS, short_seq_prob: 0 }, 15);
  const longFrac = longInstances.filter((ex) => ex.next_sentence_label === 1).length / longInstances.length;
  assert.ok(Math.abs(longFrac - 0.5) < 0.02, `NotNext fraction on long documents ${longFrac}`);
});

test('short_seq_prob: ~10% of documents aim at a shorter random target', () => {
  // Long documents of 4-token sentences; the first IsNext pair of a document is at least its target
  // long, so it is shorter than the maximum only when the target was drawn short.
  const docs = randomDocs(4, 4000, [4, 4], [40, 40]).map((d) => d.map((s) => s.slice(0, 4)));
  const chunk = documentChunk(docs);
  const rng = Rng.fromSeed(14);
  let firstIsNext = 0;
  let short = 0;
  for (let d = 0; d < docs.length; d++) {
    const first = createInstancesFromDocument(chunk, d, { ...OPTS, max_predictions_per_seq: 20 }, vocab, rng)[0]!;
    if (first.next_sentence_label !== 0) continue;
    firstIsNext++;
    if (first.input_ids.length < OPTS.max_seq_length - 4) short++;
  }
  // Expected ~0.1 * P(target < 57 | IsNext) ~ 0.09; sd ~0.007 on ~1900 documents.
  const frac = short / firstIsNext;
  assert.ok(frac > 0.06 && frac < 0.12, `short fraction ${frac} of ${firstIsNext}`);
  const none = Rng.fromSeed(15);
  for (let d = 0; d < 200; d++) {
    const first = createInstancesFromDocument(chunk, d, { ...OPTS, short_seq_prob: 0 }, vocab, none)[0]!;
    if (first.next_sentence_label === 0) assert.ok(first.input_ids.length >= OPTS.max_seq_length - 1);
  }
});
