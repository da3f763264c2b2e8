// Question answering over contexts longer than one input: the question (at most max_question_length
// pieces) is paired with overlapping windows of the context, doc_stride pieces apart, as fine-tuning's
// SQuAD features are (run_squad.py); the pipeline scores spans in every window and keeps the best.
import type { PieceTokenizer } from '../data/tasks/tokenizer.ts';
import { BertError } from '../errors.ts';
import type { Encoding } from '../tokenizer/types.ts';
import type { Answer } from './types.ts';

export interface QaWindowOptions {
  /** Tokens per window, specials included. */
  max_length: number;
  doc_stride: number;
  max_question_length: number;
}

/**
 * `[CLS] question [SEP] window [SEP]` encodings covering the whole context; context pieces carry
 * sequence id 1 and offsets into `context`. A context that fits gives one window.
 */
export function qaWindows(tokenizer: PieceTokenizer, question: string, context: string, opts: QaWindowOptions): Encoding[] {
  if (!Number.isInteger(opts.max_length) || opts.max_length < 4) throw new BertError(`question answering needs windows of at least 4 tokens, got max_length ${opts.max_length}`);
  if (!Number.isInteger(opts.doc_stride) || opts.doc_stride < 1) throw new BertError(`doc_stride must be a positive integer, got ${opts.doc_stride}`);
  const noSpecials = { add_special_tokens: false };
  const q = tokenizer.encode(question, undefined, noSpecials);
  const qLen = Math.min(q.input_ids.length, opts.max_question_length, opts.max_length - 4);
  const doc = tokenizer.encode(context, undefined, noSpecials);
  const room = opts.max_length - qLen - 3;
  const { cls, sep } = tokenizer.specialIds;
  const windows: Encoding[] = [];
  for (let start = 0; ; ) {
    const length = Math.min(doc.input_ids.length - start, room);
    const end = start + length;
    const n = qLen + length + 3;
    windows.push({
      tokens: ['[CLS]', ...q.tokens.slice(0, qLen), '[SEP]', ...doc.tokens.slice(start, end), '[SEP]'],
      input_ids: [cls, ...q.input_ids.slice(0, qLen), sep, ...doc.input_ids.slice(start, end), sep],
      token_type_ids: Array.from({ length: n }, (_, i) => (i < qLen + 2 ? 0 : 1)),
      attention_mask: new Array<number>(n).fill(1),
      offsets: [[0, 0], ...q.offsets.slice(0, qLen), [0, 0], ...doc.offsets.slice(start, end), [0, 0]],
      word_ids: [null, ...q.word_ids.slice(0, qLen), null, ...doc.word_ids.slice(start, end), null],
      sequence_ids: [null, ...q.sequence_ids.slice(0, qLen).map(() => 0), null, ...doc.sequence_ids.slice(start, end).map(() => 1), null],
    });
    if (end >= doc.input_ids.length) break;
    start += Math.min(length, opts.doc_stride);
  }
  return windows;
}

/** The k best answers over all windows of one question; a span found in two windows counts once, at its best score. */
export function mergeWindowAnswers(perWindow: readonly Answer[][], k: number): Answer[] {
  const best = new Map<string, Answer>();
  for (const a of perWindow.flat()) {
    const key = `${a.start}:${a.end}`;
    const seen = best.get(key);
    if (seen === undefined || a.score > seen.score) best.set(key, a);
  }
  return [...best.values()].sort((a, b) => b.score - a.score).slice(0, k);
}
