// Word/piece alignment for token classification (NER, POS): a word's tag goes on its first
// piece; its other pieces, the specials and the padding get IGNORE_INDEX; predictions map back
// to one tag per word through the same first pieces. A sentence longer than one input is read
// whole, in overlapping windows, as question answering reads long contexts.
import { BertError } from '../../errors.ts';
import type { Encoding } from '../../tokenizer/types.ts';
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
 * The word of each piece of `words` joined by single spaces, found from its character offset
 * (BertTokenizer's own word_ids count its pre-tokenized words, which split punctuation inside a
 * word); null for specials and padding.
 */
function pieceWords(enc: Encoding, words: readonly string[]): Array<number | null> {
  const charToWord: number[] = [];
  words.forEach((w, i) => {
    if (i > 0) charToWord.push(-1);
    for (let k = 0; k < w.length; k++) charToWord.push(i);
  });
  return enc.input_ids.map((_, t) => {
    const word = enc.sequence_ids[t] === null ? null : charToWord[enc.offsets[t]![0]];
    if (word === undefined || word === -1) throw new BertError(`piece ${enc.tokens[t]} starts outside every word`);
    return word;
  });
}

/** Encodes words joined by single spaces, truncated to `max_length` pieces (specials included). */
export function alignTokenLabels(
  tokenizer: PieceTokenizer,
  words: readonly string[],
  tagIds: readonly number[] | undefined,
  opts: { max_length: number; padding?: 'max_length' | 'none' },
): TokenClassificationFeature {
  if (tagIds !== undefined && tagIds.length !== words.length) {
    throw new BertError(`${tagIds.length} tags for ${words.length} words`);
  }
  const enc = tokenizer.encode(words.join(' '), undefined, { max_length: opts.max_length, padding: opts.padding ?? 'none' });
  const word_ids = pieceWords(enc, words);
  const labels: number[] = [];
  const firstPiece = new Set<number>();
  for (const word of word_ids) {
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
  return fillWordPredictions(new Array<number>(wordCount).fill(fallback), word_ids, pieceTagIds);
}

/** Writes into `tags` the prediction of each word this feature reads (at its first piece here); returns `tags`. */
export function fillWordPredictions(tags: number[], word_ids: ReadonlyArray<number | null>, pieceTagIds: ArrayLike<number>): number[] {
  const seen = new Set<number>();
  for (let t = 0; t < word_ids.length; t++) {
    const w = word_ids[t];
    if (w === null || w === undefined || seen.has(w)) continue;
    seen.add(w);
    tags[w] = pieceTagIds[t]!;
  }
  return tags;
}

/** One window of a sentence: a feature whose word_ids and labels cover only the words it owns. */
export type TokenWindow = Omit<TokenClassificationFeature, 'words_without_pieces'>;

export interface TokenWindowOptions {
  /** Pieces per window, [CLS] and [SEP] included. */
  max_length: number;
  /** Pieces between the starts of consecutive windows (at most max_length - 2). */
  stride: number;
}

/**
 * A whole sentence as `[CLS] pieces [SEP]` windows of at most `max_length` pieces, `stride` apart;
 * one window when it fits. Each word is labelled, and read back, in one window only: the one where
 * its first piece has the most context on both sides (run_squad.py's max-context rule). Elsewhere
 * its pieces carry word id null and IGNORE_INDEX, so fillWordPredictions over every window of a
 * sentence gives each word exactly one prediction.
 */
export function tokenWindows(
  tokenizer: PieceTokenizer,
  words: readonly string[],
  tagIds: readonly number[] | undefined,
  opts: TokenWindowOptions,
): { features: TokenWindow[]; words_without_pieces: number } {
  if (tagIds !== undefined && tagIds.length !== words.length) throw new BertError(`${tagIds.length} tags for ${words.length} words`);
  const room = opts.max_length - 2;
  if (!Number.isInteger(room) || room < 1) throw new BertError(`token classification needs at least 3 pieces per input, got max_length ${opts.max_length}`);
  if (!Number.isInteger(opts.stride) || opts.stride < 1) throw new BertError(`the window stride must be a positive integer, got ${opts.stride}`);
  const enc = tokenizer.encode(words.join(' '), undefined, { add_special_tokens: false });
  const pieceWord = pieceWords(enc, words);
  const n = enc.input_ids.length;
  const spans: Array<[number, number]> = [];
  for (let start = 0; ; start += Math.min(opts.stride, room)) {
    const end = Math.min(n, start + room);
    spans.push([start, end]);
    if (end >= n) break;
  }
  // The window that owns each word: where its first piece sits farthest from a window edge.
  const owner = new Map<number, number>();
  const ownerContext = new Map<number, number>();
  for (let t = 0; t < n; t++) {
    const w = pieceWord[t]!;
    if (w === null || (t > 0 && pieceWord[t - 1] === w)) continue;
    spans.forEach(([start, end], k) => {
      if (t < start || t >= end) return;
      const context = Math.min(t - start, end - 1 - t) + 0.01 * (end - start);
      if (!(context <= (ownerContext.get(w) ?? -1))) {
        owner.set(w, k);
        ownerContext.set(w, context);
      }
    });
  }
  const { cls, sep } = tokenizer.specialIds;
  const features = spans.map(([start, end], k): TokenWindow => {
    const word_ids: Array<number | null> = [null];
    const labels: number[] = [IGNORE_INDEX];
    for (let t = start; t < end; t++) {
      const w = pieceWord[t]!;
      const mine = w !== null && owner.get(w) === k;
      const first = mine && (t === 0 || pieceWord[t - 1] !== w);
      word_ids.push(mine ? w : null);
      labels.push(first && tagIds !== undefined ? tagIds[w]! : IGNORE_INDEX);
    }
    word_ids.push(null);
    labels.push(IGNORE_INDEX);
    const length = end - start + 2;
    return {
      input_ids: [cls, ...enc.input_ids.slice(start, end), sep],
      token_type_ids: new Array<number>(length).fill(0),
      attention_mask: new Array<number>(length).fill(1),
      labels,
      word_ids,
    };
  });
  return { features, words_without_pieces: words.length - owner.size };
}
