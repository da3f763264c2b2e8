/** One encoded text or text pair, as BERT's input: `[CLS] A [SEP] B [SEP]`. */
export interface Encoding {
  tokens: string[];
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  /** [start, end) character offsets into the original string (its UTF-16 indices); [0, 0] for specials and padding. */
  offsets: Array<[number, number]>;
  /** Index of the pre-tokenized word each token came from; null for special tokens and padding. */
  word_ids: Array<number | null>;
  /** 0 for tokens of A, 1 for tokens of B, null for specials and padding. */
  sequence_ids: Array<number | null>;
}

export interface EncodeOptions {
  /** Truncate (longest-first) so the encoding, specials included, has at most this many tokens. */
  max_length?: number;
  /** 'max_length' pads to max_length; 'longest' pads a batch to its longest member; default none. */
  padding?: 'max_length' | 'longest' | 'none';
  /** Add `[CLS]`/`[SEP]`; default true. */
  add_special_tokens?: boolean;
}

/** The five special tokens BERT's vocabularies carry, with their ids in this vocabulary. */
export interface SpecialTokenIds {
  pad: number;
  unk: number;
  cls: number;
  sep: number;
  mask: number;
}
