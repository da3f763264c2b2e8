// Trivial baselines that make a fine-tuned score readable: what a model with no context and no
// pre-training gets from the same labeled examples. Scored with the task's own metric.
import type { LabelMap } from '../data/tasks/labels.ts';
import type { TaggedSentence, TextExample } from '../data/tasks/types.ts';
import { sentenceScores, tagScores, type TaskExamples, type TaskSpec } from './finetune-tasks.ts';

/** The most frequent key of a count map (the first one seen wins a tie). */
function top<K>(counts: ReadonlyMap<K, number>): K | undefined {
  let best: K | undefined;
  let n = -1;
  for (const [k, c] of counts) if (c > n) [best, n] = [k, c];
  return best;
}

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Tagging: each word gets its most frequent tag in `train` (words compared lowercased, as the
 * uncased models see them); a word `train` never saw gets the most frequent tag overall. Also that
 * tag for every word. Both as the task's main metric.
 */
export function taggingBaselines(train: readonly TaggedSentence[], test: readonly TaggedSentence[], labels: LabelMap): Record<string, number> {
  const overall = new Map<string, number>();
  const byWord = new Map<string, Map<string, number>>();
  for (const s of train) {
    s.words.forEach((w, i) => {
      const tag = s.tags[i]!;
      count(overall, tag);
      const key = w.toLowerCase();
      let m = byWord.get(key);
      if (m === undefined) byWord.set(key, (m = new Map()));
      count(m, tag);
    });
  }
  const fallback = top(overall)!;
  const bestOf = new Map([...byWord].map(([w, m]) => [w, top(m)!]));
  const gold = test.map((s) => s.tags);
  const score = (pred: string[][]) => {
    const r = tagScores(gold, pred, labels);
    return r.metrics[r.main]!;
  };
  return {
    'most frequent tag per word': score(test.map((s) => s.words.map((w) => bestOf.get(w.toLowerCase()) ?? fallback))),
    'most frequent tag': score(test.map((s) => s.words.map(() => fallback))),
  };
}

/** Classification: always the training set's most frequent label, as the task's main metric. */
export function majorityBaseline(spec: TaskSpec, train: readonly TextExample[], test: readonly TextExample[], labels: LabelMap): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of train) count(counts, e.label);
  const majority = labels.id(top(counts)!);
  const gold = test.map((e) => labels.id(e.label, e.where));
  const r = sentenceScores(spec, gold.map(() => majority), gold, labels);
  return { 'majority class': r.metrics[r.main]! };
}

/** The baselines that fit the task: tagging and classification have them, other families none. */
export function trivialBaselines(spec: TaskSpec, train: TaskExamples, test: TaskExamples, labels: LabelMap | undefined): Record<string, number> {
  if (labels === undefined) return {};
  if (spec.family === 'token-classification' && train.kind === 'tagged' && test.kind === 'tagged') return taggingBaselines(train.examples, test.examples, labels);
  if (spec.family === 'classification' && train.kind === 'text' && test.kind === 'text') return majorityBaseline(spec, train.examples, test.examples, labels);
  return {};
}
