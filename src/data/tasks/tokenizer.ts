// The part of BertTokenizer the feature builders use, so that they can be tested with any tokenizer.
import type { EncodeOptions, Encoding, SpecialTokenIds } from '../../tokenizer/types.ts';

export interface PieceTokenizer {
  encode(text: string, pair?: string, opts?: EncodeOptions): Encoding;
  readonly specialIds: SpecialTokenIds;
}

/** Hugging Face's label for positions the loss ignores. */
export const IGNORE_INDEX = -100;
