// From logits to answers, as Hugging Face's pipelines do it: softmax, top-k, entity grouping ("simple"
// aggregation), best answer span. Pure functions over plain arrays.
import { decodeTokens } from '../tokenizer/wordpiece-tokenizer.ts';
import type { Encoding } from '../tokenizer/types.ts';
import type { Answer, TokenEntity } from './types.ts';

/** Numerically stable softmax of a row. */
export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  const e = Array.from(row, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topK(values: readonly number[], k: number): number[] {
  const idx = values.map((_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  return idx.slice(0, Math.max(0, k));
}

export function l2Normalize(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return n === 0 ? v : v.map((x) => x / n);
}

/** "B-PER" -> ['B', 'PER']; a label without a B-/I- prefix is its own tag, inside ('I'). */
function bioTag(label: string): ['B' | 'I', string] {
  if (label.startsWith('B-')) return ['B', label.slice(2)];
  if (label.startsWith('I-')) return ['I', label.slice(2)];
  return ['I', label];
}

interface TokenLabel {
  label: string;
  score: number;
  token: string;
  start: number;
  end: number;
}

/**
 * HF's token-classification pipeline with aggregation_strategy "simple": each (non-special) token takes
 * its argmax label; adjacent tokens with the same tag join a group unless a token says B-; a group's
 * score is the mean, its word the decoded pieces, its span the first start to the last end; "O" goes.
 */
export function groupEntities(enc: Encoding, probs: number[][], id2label: (id: number) => string): TokenEntity[] {
  const tokens: TokenLabel[] = [];
  enc.input_ids.forEach((_, s) => {
    if (enc.word_ids[s] === null) return; // specials and padding
    const p = probs[s]!;
    const best = topK(p, 1)[0]!;
    tokens.push({ label: id2label(best), score: p[best]!, token: enc.tokens[s]!, start: enc.offsets[s]![0], end: enc.offsets[s]![1] });
  });
  const groups: TokenLabel[][] = [];
  let lastTag: string | undefined;
  for (const t of tokens) {
    const [bi, tag] = bioTag(t.label);
    if (groups.length > 0 && tag === lastTag && bi !== 'B') groups[groups.length - 1]!.push(t);
    else groups.push([t]);
    lastTag = tag;
  }
  return groups
    .map((g) => ({
      entity_group: bioTag(g[0]!.label)[1],
      score: g.reduce((a, t) => a + t.score, 0) / g.length,
      word: decodeTokens(g.map((t) => t.token)),
      start: g[0]!.start,
      end: g[g.length - 1]!.end,
    }))
    .filter((e) => e.entity_group !== 'O');
}

/**
 * The question-answering pipeline's span choice: softmax over start and over end logits restricted to
 * context tokens, score(i, j) = p_start(i) * p_end(j) for i <= j < i + maxAnswerLen, best first.
 * Offsets map tokens back to characters of `context`.
 */
export function bestSpans(enc: Encoding, start: ArrayLike<number>, end: ArrayLike<number>, context: string, topk: number, maxAnswerLen = 15): Answer[] {
  const ctx = enc.sequence_ids.map((s) => s === 1);
  // Tokens outside the context get -10000 before the softmax, as HF does, so they take no probability.
  const masked = (logits: ArrayLike<number>) => softmax(Array.from(enc.input_ids, (_, s) => (ctx[s] ? logits[s]! : -10000)));
  const ps = masked(start);
  const pe = masked(end);
  const spans: Array<{ i: number; j: number; score: number }> = [];
  for (let i = 0; i < ps.length; i++) {
    if (!ctx[i]) continue;
    for (let j = i; j < Math.min(pe.length, i + maxAnswerLen); j++) if (ctx[j]) spans.push({ i, j, score: ps[i]! * pe[j]! });
  }
  spans.sort((a, b) => b.score - a.score);
  return spans.slice(0, topk).map(({ i, j, score }) => {
    const [s, e] = [enc.offsets[i]![0], enc.offsets[j]![1]];
    return { answer: context.slice(s, e), score, start: s, end: e };
  });
}
