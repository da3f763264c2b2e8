// SQuAD exact match and F1, as the official evaluate-v1.1.py and evaluate-v2.0.py compute them.

/** Python's `string.punctuation`: ASCII only, so curly quotes and dashes survive normalisation. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// Python's `re` treats \b as Unicode-aware (\w = letters, digits, underscore); JS's \b is ASCII-only.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
// The characters Python's `str.split()` splits on (JS's \s differs: it has U+FEFF, lacks U+001C-1F and U+0085).
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python's `str.split()` with no argument: runs of whitespace, no empty pieces. */
function pySplit(s: string): string[] {
  return s.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

/** Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase()) if (!PUNCTUATION.has(ch)) out += ch;
  return pySplit(out.replace(ARTICLES, ' ')).join(' ');
}

function answerTokens(s: string): string[] {
  return pySplit(normalizeAnswer(s));
}

/** 1 when the normalised strings are equal, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** Bag-of-tokens F1 of v1.1: 0 when nothing is shared (so two empty answers score 0). */
export function f1V1(prediction: string, gold: string): number {
  return tokenF1(answerTokens(prediction), answerTokens(gold), false);
}

/** Token F1 of v2.0: an empty side scores 1 only when both are empty. */
export function f1V2(prediction: string, gold: string): number {
  return tokenF1(answerTokens(prediction), answerTokens(gold), true);
}

function tokenF1(pred: string[], gold: string[], emptyAgrees: boolean): number {
  if (emptyAgrees && (pred.length === 0 || gold.length === 0)) return pred.length === gold.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The SQuAD JSON layout's question record (only what scoring reads). */
export interface SquadQa {
  id: string;
  answers: Array<{ text: string }>;
}
export interface SquadArticle {
  paragraphs: Array<{ qas: SquadQa[] }>;
}

function* questions(dataset: SquadArticle[]): Generator<SquadQa> {
  for (const article of dataset) for (const p of article.paragraphs) yield* p.qas;
}

export interface SquadV1Result {
  exact_match: number;
  f1: number;
  /** Questions with no prediction: scored 0, as the official script does. */
  missing: number;
}

/** evaluate-v1.1.py: max over gold answers, mean over every question, as percentages. */
export function squadV1(dataset: SquadArticle[], predictions: Record<string, string>): SquadV1Result {
  let em = 0;
  let f1 = 0;
  let total = 0;
  let missing = 0;
  for (const qa of questions(dataset)) {
    total++;
    const pred = Object.hasOwn(predictions, qa.id) ? predictions[qa.id] : undefined;
    if (pred === undefined) {
      missing++;
      continue;
    }
    let bestEm = 0;
    let bestF1 = 0;
    for (const a of qa.answers) {
      bestEm = Math.max(bestEm, exactMatch(pred, a.text));
      bestF1 = Math.max(bestF1, f1V1(pred, a.text));
    }
    em += bestEm;
    f1 += bestF1;
  }
  return { exact_match: (100 * em) / total, f1: (100 * f1) / total, missing };
}

export interface SquadV2Result {
  exact: number;
  f1: number;
  total: number;
  HasAns_exact?: number;
  HasAns_f1?: number;
  HasAns_total?: number;
  NoAns_exact?: number;
  NoAns_f1?: number;
  NoAns_total?: number;
  best_exact?: number;
  best_exact_thresh?: number;
  best_f1?: number;
  best_f1_thresh?: number;
  /** Questions with no prediction: left out of every total, as the official script does. */
  missing: number;
}

/**
 * evaluate-v2.0.py. `naProbs` (qid -> probability of no answer) enables the best-threshold search;
 * without it every probability is 0. Entry order of `naProbs` breaks ties exactly as the script's
 * stable sort does, so pass it in file order (a Map, or an object whose keys are not integers).
 */
export function squadV2(
  dataset: SquadArticle[],
  predictions: Record<string, string>,
  naProbs?: Map<string, number> | Record<string, number>,
  naProbThresh = 1.0,
): SquadV2Result {
  const probs = naProbs === undefined ? new Map(Object.keys(predictions).map((k) => [k, 0])) : toMap(naProbs);
  const hasAns = new Map<string, boolean>();
  const exactRaw = new Map<string, number>();
  const f1Raw = new Map<string, number>();
  let missing = 0;
  for (const qa of questions(dataset)) {
    hasAns.set(qa.id, qa.answers.length > 0);
    let golds = qa.answers.map((a) => a.text).filter((t) => normalizeAnswer(t) !== '');
    if (golds.length === 0) golds = [''];
    const pred = Object.hasOwn(predictions, qa.id) ? predictions[qa.id] : undefined;
    if (pred === undefined) {
      missing++;
      continue;
    }
    exactRaw.set(qa.id, Math.max(...golds.map((g) => exactMatch(pred, g))));
    f1Raw.set(qa.id, Math.max(...golds.map((g) => f1V2(pred, g))));
  }
  const applyThresh = (scores: Map<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [qid, s] of scores) {
      const prob = probs.get(qid);
      if (prob === undefined) throw new Error(`no no-answer probability for question ${qid}`);
      out.set(qid, prob > naProbThresh ? (hasAns.get(qid) ? 0 : 1) : s);
    }
    return out;
  };
  const exact = applyThresh(exactRaw);
  const f1 = applyThresh(f1Raw);
  const mean = (scores: Map<string, number>, ids: string[]): number => {
    let sum = 0;
    for (const id of ids) sum += scores.get(id) as number;
    return (100 * sum) / ids.length;
  };
  const all = [...exact.keys()];
  const result: SquadV2Result = { exact: mean(exact, all), f1: mean(f1, all), total: all.length, missing };
  // The official script raises KeyError on a split holding an unanswered question; we average
  // each split over its answered questions instead (identical whenever every question has a prediction).
  const hasIds = all.filter((k) => hasAns.get(k));
  const noIds = all.filter((k) => !hasAns.get(k));
  if (hasIds.length > 0) {
    result.HasAns_exact = mean(exact, hasIds);
    result.HasAns_f1 = mean(f1, hasIds);
    result.HasAns_total = hasIds.length;
  }
  if (noIds.length > 0) {
    result.NoAns_exact = mean(exact, noIds);
    result.NoAns_f1 = mean(f1, noIds);
    result.NoAns_total = noIds.length;
  }
  if (naProbs !== undefined) {
    [result.best_exact, result.best_exact_thresh] = findBestThresh(predictions, exactRaw, probs, hasAns);
    [result.best_f1, result.best_f1_thresh] = findBestThresh(predictions, f1Raw, probs, hasAns);
  }
  return result;
}

function toMap(probs: Map<string, number> | Record<string, number>): Map<string, number> {
  return probs instanceof Map ? probs : new Map(Object.entries(probs));
}

/**
 * find_best_thresh: start from answering nothing (every NoAns question right), then admit
 * questions in rising no-answer probability and keep the best running score.
 */
export function findBestThresh(
  predictions: Record<string, string>,
  scores: Map<string, number>,
  naProbs: Map<string, number>,
  hasAns: Map<string, boolean>,
): [score: number, thresh: number] {
  let cur = 0;
  for (const v of hasAns.values()) if (!v) cur++;
  let best = cur;
  let bestThresh = 0;
  const ids = [...naProbs.keys()].sort((a, b) => (naProbs.get(a) as number) - (naProbs.get(b) as number));
  for (const qid of ids) {
    const s = scores.get(qid);
    if (s === undefined) continue;
    if (hasAns.get(qid)) cur += s;
    else if (predictions[qid]) cur -= 1;
    if (cur > best) {
      best = cur;
      bestThresh = naProbs.get(qid) as number;
    }
  }
  return [(100 * best) / scores.size, bestThresh];
}
