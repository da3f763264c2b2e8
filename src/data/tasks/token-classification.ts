// Word/piece alignment for token classification (NER, POS): a word's tag goes on its first
// piece; its other pieces, the specials and the padding get IGNORE_INDEX; predictions map back
// to one tag per word through the same first pieces.
import { BertError } from '../../errors.ts';
import { IGNORE_INDEX, type PieceTokenizer } from './tokenizer.ts';

export interface TokenClassificationFeature {
  input_ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  /** Tag id on each word's first piece, IGNORE_INDEX elsewhere. */
  labels: number[];
  /** Word index of each piece; null for specials and padding. */
  word_ids: Array<number | null>;
  /** Words that kept no piece (truncated away, or text the tokenizer drops): their tags are lost. */
  words_without_pieces: number;
}

/**
 * Encodes words joined by single spaces, then finds each piece's word from its character offset
 * (BertTokenizer's own word_ids count its pre-tokenized words, which split punctuation inside a word).
 */
export function alignTokenLabels(
  tokenizer: PieceTokenizer,
  words: readonly string[],
  tagIds: readonly number[] | undefined,
  opts: { max_length: number; padding?: 'max_length' | 'none' },
): TokenClassificationFeature {
  if (tagIds !== undefined && tagIds.length !== words.length) {
    throw new BertError(`${tagIds.length} tags for ${words.length} words`);
  }
  const charToWord: number[] = [];
  words.forEach((w, i) => {
    if (i > 0) charToWord.push(-1);
    for (let k = 0; k < w.length; k++) charToWord.push(i);
  });
  const enc = tokenizer.encode(words.join(' '), undefined, { max_length: opts.max_length, padding: opts.padding ?? 'none' });
  const word_ids: Array<number | null> = [];
  const labels: number[] = [];
  const firstPiece = new Set<number>();
  for (let t = 0; t < enc.input_ids.length; t++) {
    const word = enc.sequence_ids[t] === null ? null : charToWord[enc.offsets[t]![0]];
    if (word === undefined || word === -1) throw new BertError(`piece ${enc.tokens[t]} starts outside every word`);
    word_ids.push(word);
    const first = word !== null && !firstPiece.has(word);
    if (first) firstPiece.add(word);
    labels.push(first && tagIds !== undefined ? tagIds[word]! : IGNORE_INDEX);
  }
  return {
    input_ids: enc.input_ids,
    token_type_ids: enc.token_type_ids,
    attention_mask: enc.attention_mask,
    labels,
    word_ids,
    words_without_pieces: words.length - firstPiece.size,
  };
}

/**
 * One tag id per word from per-piece predictions (argmax ids), read at each word's first piece;
 * a word without pieces gets `fallback` (the id of `O`, say).
 */
export function wordPredictions(word_ids: ReadonlyArray<number | null>, pieceTagIds: ArrayLike<number>, wordCount: number, fallback: number): number[] {
  if (pieceTagIds.length < word_ids.length) throw new BertError(`${pieceTagIds.length} piece predictions for ${word_ids.length} pieces`);
  const out = new Array<number>(wordCount).fill(fallback);
  const seen = new Set<number>();
  for (let t = 0; t < word_ids.length; t++) {
    const w = word_ids[t]!;
    if (w === null || seen.has(w)) continue;
    seen.add(w);
    out[w] = pieceTagIds[t]!;
  }
  return out;
}
