// SQuAD features and post-processing, BERT's run_squad.py procedure with Hugging Face's
// offset-based answer mapping: the question (at most max_query_length pieces) is paired with
// overlapping windows of the context (doc_stride apart); answers map to token positions by the
// pieces' character offsets, and predicted spans map back to exact slices of the context.
import { BertError } from '../../errors.ts';
import type { PieceTokenizer } from './tokenizer.ts';
import type { SquadExample } from './types.ts';

export interface SquadFeatureOptions {
  max_seq_length?: number;
  doc_stride?: number;
  max_query_length?: number;
}

export const SQUAD_DEFAULTS = { max_seq_length: 384, doc_stride: 128, max_query_length: 64 } as const;

export interface SquadFeature {
  example_index: number;
  /** This window's place among its example's windows. */
  window: number;
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  /** [start, end) of each piece in the context; null for question pieces, specials and padding. */
  offsets: Array<[number, number] | null>;
  /** Whether this window gives the piece its most central view (run_squad.py's _check_is_max_context). */
  token_is_max_context: boolean[];
  /** Training targets: the answer's first and last piece, or 0 ([CLS]) when this window lacks it. */
  start_position: number;
  end_position: number;
}

export interface SquadFeatures {
  features: SquadFeature[];
  /** Examples whose answer covers no context piece (e.g. only whitespace): skipped in training, as run_squad.py does. */
  skipped: Array<{ id: string; where: string; reason: string }>;
}

/**
 * Windows for every example. With `training`, each example's first answer sets the targets; an
 * answer whose text is not its span of the context is an error naming the example.
 */
export function buildSquadFeatures(
  tokenizer: PieceTokenizer,
  examples: readonly SquadExample[],
  opts: SquadFeatureOptions & { training: boolean },
): SquadFeatures {
  const maxSeq = opts.max_seq_length ?? SQUAD_DEFAULTS.max_seq_length;
  const stride = opts.doc_stride ?? SQUAD_DEFAULTS.doc_stride;
  const maxQuery = opts.max_query_length ?? SQUAD_DEFAULTS.max_query_length;
  const { cls, sep, pad } = tokenizer.specialIds;
  const features: SquadFeature[] = [];
  const skipped: SquadFeatures['skipped'] = [];
  examples.forEach((ex, exampleIndex) => {
    const query = tokenizer.encode(ex.question, undefined, { add_special_tokens: false }).input_ids.slice(0, maxQuery);
    const doc = tokenizer.encode(ex.context, undefined, { add_special_tokens: false });
    const maxDoc = maxSeq - query.length - 3;
    if (maxDoc < 1) throw new BertError(`max_seq_length ${maxSeq} leaves no room for the context after a ${query.length}-piece question`, ex.where);

    let answerStart = -1;
    let answerEnd = -1;
    if (opts.training && !ex.is_impossible && ex.answers.length > 0) {
      const a = ex.answers[0]!;
      const startChar = a.answer_start;
      const endChar = startChar + a.text.length;
      if (ex.context.slice(startChar, endChar) !== a.text) {
        throw new BertError(`answer ${JSON.stringify(a.text)} does not match its span ${JSON.stringify(ex.context.slice(startChar, endChar))}`, ex.where);
      }
      // First piece ending after the answer starts, last piece starting before it ends.
      for (let t = 0; t < doc.offsets.length; t++) {
        if (answerStart < 0 && doc.offsets[t]![1] > startChar) answerStart = t;
        if (doc.offsets[t]![0] < endChar) answerEnd = t;
      }
      if (answerStart < 0 || answerEnd < answerStart) {
        skipped.push({ id: ex.id, where: ex.where, reason: `answer ${JSON.stringify(a.text)} covers no piece of the context` });
        return;
      }
    }

    const spans: Array<{ start: number; length: number }> = [];
    // run_squad.py advances by min(length, doc_stride), so a stride longer than a window leaves no gap.
    for (let start = 0; ; ) {
      const length = Math.min(doc.input_ids.length - start, maxDoc);
      spans.push({ start, length });
      if (start + length >= doc.input_ids.length) break;
      start += Math.min(length, stride);
    }

    spans.forEach((span, window) => {
      const input_ids = [cls, ...query, sep];
      const offsets: Array<[number, number] | null> = input_ids.map(() => null);
      const token_is_max_context: boolean[] = input_ids.map(() => false);
      const docOffset = input_ids.length;
      for (let i = 0; i < span.length; i++) {
        const t = span.start + i;
        input_ids.push(doc.input_ids[t]!);
        offsets.push(doc.offsets[t]!);
        token_is_max_context.push(isMaxContext(spans, window, t));
      }
      input_ids.push(sep);
      offsets.push(null);
      token_is_max_context.push(false);
      const token_type_ids = input_ids.map((_, i) => (i < docOffset ? 0 : 1));
      const attention_mask = input_ids.map(() => 1);
      while (input_ids.length < maxSeq) {
        input_ids.push(pad);
        token_type_ids.push(0);
        attention_mask.push(0);
        offsets.push(null);
        token_is_max_context.push(false);
      }
      let start_position = 0;
      let end_position = 0;
      if (answerStart >= 0 && answerStart >= span.start && answerEnd < span.start + span.length) {
        start_position = answerStart - span.start + docOffset;
        end_position = answerEnd - span.start + docOffset;
      }
      features.push({ example_index: exampleIndex, window, input_ids, token_type_ids, attention_mask, offsets, token_is_max_context, start_position, end_position });
    });
  });
  return { features, skipped };
}

/** A piece seen in several windows is scored in the one where it has the most context on its shorter side. */
function isMaxContext(spans: ReadonlyArray<{ start: number; length: number }>, current: number, position: number): boolean {
  let best = -1;
  let bestScore = -Infinity;
  spans.forEach((s, i) => {
    const end = s.start + s.length - 1;
    if (position < s.start || position > end) return;
    const score = Math.min(position - s.start, end - position) + 0.01 * s.length;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best === current;
}

export interface SquadSpan {
  text: string;
  /** [start, end) in the example's context (UTF-16 indices). */
  start: number;
  end: number;
  /** start logit + end logit. */
  score: number;
}

export interface SquadPrediction {
  id: string;
  /** Best span; text '' with score -Infinity when no window offered a valid span. */
  best: SquadSpan;
  /** Up to n_best spans, best first, each with its softmax probability among them. */
  nbest: Array<SquadSpan & { probability: number }>;
  /** Smallest start[CLS] + end[CLS] over the example's windows. */
  null_score: number;
}

export interface PostprocessOptions {
  n_best_size?: number;
  max_answer_length?: number;
}

/** Top-k indices of `logits` by value, highest first. */
function topK(logits: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: logits.length }, (_, i) => i)
    .sort((a, b) => logits[b]! - logits[a]!)
    .slice(0, k);
}

/**
 * One prediction per example from per-feature start/end logits (`logits[i]` belongs to
 * `features[i]`): n-best over every window's top starts and ends, spans inside the context only,
 * at most max_answer_length pieces, starting at a piece's most central window.
 */
export function postprocessSquad(
  examples: readonly SquadExample[],
  features: readonly SquadFeature[],
  logits: ReadonlyArray<{ start: ArrayLike<number>; end: ArrayLike<number> }>,
  opts: PostprocessOptions = {},
): SquadPrediction[] {
  const nBest = opts.n_best_size ?? 20;
  const maxAnswer = opts.max_answer_length ?? 30;
  if (logits.length !== features.length) throw new BertError(`${logits.length} logit pairs for ${features.length} features`);
  const byExample = examples.map(() => [] as number[]);
  features.forEach((f, i) => {
    const own = byExample[f.example_index];
    if (own === undefined) throw new BertError(`feature ${i} belongs to example ${f.example_index}, but there are ${examples.length} examples`);
    own.push(i);
  });
  return examples.map((ex, e) => {
    const candidates: SquadSpan[] = [];
    let nullScore = Infinity;
    for (const fi of byExample[e]!) {
      const f = features[fi]!;
      const { start, end } = logits[fi]!;
      nullScore = Math.min(nullScore, start[0]! + end[0]!);
      const starts = topK(start, nBest);
      const ends = topK(end, nBest);
      for (const s of starts) {
        const so = f.offsets[s];
        // Logits past the feature's pieces (padding) have no offsets: not a span.
        if (so === undefined || so === null || !f.token_is_max_context[s]) continue;
        for (const t of ends) {
          const eo = f.offsets[t];
          if (eo === undefined || eo === null || t < s || t - s + 1 > maxAnswer) continue;
          candidates.push({ text: ex.context.slice(so[0], eo[1]), start: so[0], end: eo[1], score: start[s]! + end[t]! });
        }
      }
    }
    candidates.sort((a, b) => b.score - a.score);
    // run_squad.py keeps the first (best) span of each distinct text.
    const seen = new Set<string>();
    const kept: SquadSpan[] = [];
    for (const c of candidates) {
      if (kept.length >= nBest) break;
      if (seen.has(c.text)) continue;
      seen.add(c.text);
      kept.push(c);
    }
    const max = kept.length > 0 ? kept[0]!.score : 0;
    const exps = kept.map((c) => Math.exp(c.score - max));
    const total = exps.reduce((a, b) => a + b, 0);
    const nbest = kept.map((c, i) => ({ ...c, probability: exps[i]! / total }));
    const best = kept[0] ?? { text: '', start: 0, end: 0, score: -Infinity };
    return { id: ex.id, best, nbest, null_score: nullScore };
  });
}

/**
 * SQuAD v2.0 answers: '' where null_score - best.score > threshold. Also returns that difference
 * per question (run_squad.py's null_odds), which evaluate-v2.0.py's threshold search takes as na_probs.
 */
export function squadV2Answers(predictions: readonly SquadPrediction[], threshold = 0): { answers: Record<string, string>; null_odds: Map<string, number> } {
  const answers: Record<string, string> = {};
  const null_odds = new Map<string, number>();
  for (const p of predictions) {
    const diff = p.null_score - p.best.score;
    null_odds.set(p.id, diff);
    answers[p.id] = diff > threshold ? '' : p.best.text;
  }
  return { answers, null_odds };
}
