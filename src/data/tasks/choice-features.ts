// Multiple-choice features, as Hugging Face's run_swag builds them: for each ending, the pair
// (context, start + ' ' + ending), truncated longest-first to max_length; K rows per example.
import { BertError } from '../../errors.ts';
import type { PieceTokenizer } from './tokenizer.ts';
import type { ChoiceExample } from './types.ts';

export interface EncodedRow {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
}

export interface ChoiceFeature {
  /** One row per ending, in ending order. */
  rows: EncodedRow[];
  /** Index of the right ending; undefined for unlabelled data. */
  label?: number;
}

/** One feature per example; every example must have the same number of endings (the head's K). */
export function buildChoiceFeatures(tokenizer: PieceTokenizer, examples: readonly ChoiceExample[], opts: { max_length: number }): ChoiceFeature[] {
  const k = examples[0]?.endings.length;
  return examples.map((ex) => {
    if (ex.endings.length !== k) throw new BertError(`${ex.endings.length} endings where the first example has ${k}`, ex.where);
    const rows = ex.endings.map((ending) => {
      const second = ex.start === '' ? ending : `${ex.start} ${ending}`;
      const e = tokenizer.encode(ex.context, second, { max_length: opts.max_length });
      return { input_ids: e.input_ids, token_type_ids: e.token_type_ids, attention_mask: e.attention_mask };
    });
    return ex.label === undefined ? { rows } : { rows, label: ex.label };
  });
}
