// What pre-training's held-out scores must beat to show that the model reads context. The best guess
// that ignores every other token is not "the most frequent token": the paper's 80/10/10 masking leaves
// the true token in the input at 10% of the masked positions (and a random one at another 10%), so
// a model can score several times that guess by copying its input, and stop there.
import { openPretrainingData } from './dataset.ts';

/** Context-free guesses' scores on one set of pre-training examples. */
export interface Baseline {
  /** MLM accuracy of always answering the most frequent masked token. */
  mlm: number;
  /** MLM accuracy of answering the input token where it is not [MASK], else the most frequent masked token. */
  mlm_copy: number;
  /**
   * MLM perplexity of the best context-free distribution: the masked-token frequencies at [MASK]; elsewhere
   * a mix of the input token (weight: how often the input is the answer there) and those frequencies.
   */
  mlm_perplexity: number;
  /** NSP accuracy of always answering the more frequent label. */
  nsp: number;
}

/** Masked positions as (input token, answer) pairs, and next-sentence label counts. */
interface Counts {
  inputs: number[];
  answers: number[];
  labels: [number, number];
}

function readCounts(path: string): Counts {
  const ds = openPretrainingData(path);
  const c: Counts = { inputs: [], answers: [], labels: [0, 0] };
  for (let start = 0; start < ds.size; start += 256) {
    const b = ds.batch(Array.from({ length: Math.min(256, ds.size - start) }, (_, i) => start + i));
    for (let r = 0; r < b.batch_size; r++) {
      for (let p = 0; p < b.max_predictions; p++) {
        const y = b.masked_lm_ids[r * b.max_predictions + p]!;
        if (y < 0n) continue;
        c.answers.push(Number(y));
        c.inputs.push(Number(b.input_ids[r * b.seq_length + Number(b.masked_lm_positions[r * b.max_predictions + p])]));
      }
      c.labels[Number(b.next_sentence_label[r])]! += 1;
    }
  }
  ds.close();
  return c;
}

/**
 * The context-free baselines fitted on `train` (token frequencies add-one smoothed over `vocabSize`),
 * scored on `heldOut` and on `train` itself.
 */
export function baselines(train: string, heldOut: string, o: { maskId: number; vocabSize: number }): { heldOut: Baseline; train: Baseline } {
  const t = readCounts(train);
  const frequency = new Float64Array(o.vocabSize).fill(1);
  let kept = 0;
  let notMasked = 0;
  t.answers.forEach((y, i) => {
    frequency[y]! += 1;
    if (t.inputs[i] === o.maskId) return;
    notMasked += 1;
    if (t.inputs[i] === y) kept += 1;
  });
  const total = t.answers.length + o.vocabSize;
  const copy = notMasked === 0 ? 0 : kept / notMasked;
  let top = 0;
  for (let v = 1; v < o.vocabSize; v++) if (frequency[v]! > frequency[top]!) top = v;
  const majority = t.labels[1] > t.labels[0] ? 1 : 0;

  const score = (c: Counts): Baseline => {
    let hitTop = 0;
    let hitCopy = 0;
    let nll = 0;
    c.answers.forEach((y, i) => {
      const x = c.inputs[i]!;
      const p = frequency[y]! / total;
      if (y === top) hitTop += 1;
      if ((x === o.maskId ? top : x) === y) hitCopy += 1;
      nll -= Math.log(x === o.maskId ? p : copy * (x === y ? 1 : 0) + (1 - copy) * p);
    });
    const n = Math.max(1, c.answers.length);
    return { mlm: hitTop / n, mlm_copy: hitCopy / n, mlm_perplexity: Math.exp(nll / n), nsp: c.labels[majority] / Math.max(1, c.labels[0] + c.labels[1]) };
  };
  return { heldOut: score(readCounts(heldOut)), train: score(t) };
}
