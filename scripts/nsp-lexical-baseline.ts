// How much a next-sentence pair gives away without any model: the tf-idf cosine between segment A's and
// segment B's pieces, thresholded at the best cut on the data itself (an upper bound for that one feature).
// Shows that NSP on a data set is learnable from word overlap, and how far a bag of words gets.
// Usage: node --import tsx scripts/nsp-lexical-baseline.ts PRETRAINING_DATA [MAX_EXAMPLES]
import { openPretrainingData } from '../src/data/dataset.ts';

const [path, max = '20000'] = process.argv.slice(2);
if (!path) throw new Error('usage: nsp-lexical-baseline.ts PRETRAINING_DATA [MAX_EXAMPLES]');
const ds = openPretrainingData(path);
const n = Math.min(ds.size, Number(max));
const batch = ds.batch(Array.from({ length: n }, (_, i) => i));
const S = batch.seq_length;
const FIRST_WORD_ID = 5; // [PAD] [UNK] [CLS] [SEP] [MASK] come first in our vocabularies

const pairs: Array<{ a: Map<number, number>; b: Map<number, number>; notNext: boolean }> = [];
const documentFrequency = new Map<number, number>();
for (let r = 0; r < n; r++) {
  const a = new Map<number, number>();
  const b = new Map<number, number>();
  for (let t = 1; t < S && batch.attention_mask[r * S + t] === 1n; t++) {
    const id = Number(batch.input_ids[r * S + t]);
    if (id < FIRST_WORD_ID) continue;
    const side = batch.token_type_ids[r * S + t] === 0n ? a : b;
    side.set(id, (side.get(id) ?? 0) + 1);
  }
  for (const id of new Set([...a.keys(), ...b.keys()])) documentFrequency.set(id, (documentFrequency.get(id) ?? 0) + 1);
  pairs.push({ a, b, notNext: batch.next_sentence_label[r] === 1n });
}
ds.close();

const tfidf = (counts: Map<number, number>) => {
  const v = new Map<number, number>();
  let norm = 0;
  for (const [id, c] of counts) {
    const w = c * Math.log(n / documentFrequency.get(id)!);
    v.set(id, w);
    norm += w * w;
  }
  return { v, norm: Math.sqrt(norm) || 1 };
};
const scored = pairs
  .map((p) => {
    const [a, b] = [tfidf(p.a), tfidf(p.b)];
    let dot = 0;
    for (const [id, w] of a.v) dot += w * (b.v.get(id) ?? 0);
    return { cosine: dot / a.norm / b.norm, notNext: p.notNext };
  })
  .sort((x, y) => x.cosine - y.cosine);

// Answer NotNext below a threshold and IsNext above it: the best threshold, and the ROC AUC.
const notNext = scored.filter((s) => s.notNext).length;
const majority = Math.max(notNext, n - notNext);
let best = majority;
let notNextBelow = 0;
let isNextBelow = 0;
let auc = 0;
for (const s of scored) {
  if (s.notNext) notNextBelow++;
  else {
    isNextBelow++;
    auc += notNextBelow;
  }
  best = Math.max(best, notNextBelow + (n - notNext - isNextBelow));
}
console.log(JSON.stringify({
  examples: n,
  not_next_fraction: +(notNext / n).toFixed(3),
  majority_label_accuracy: +(majority / n).toFixed(3),
  tfidf_cosine_best_threshold_accuracy: +(best / n).toFixed(3),
  tfidf_cosine_auc: +(auc / (notNext * (n - notNext))).toFixed(3),
}));
