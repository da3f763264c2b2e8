import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { basicTokenize } from './basic.ts';
import { BertTokenizer } from './bert-tokenizer.ts';
import { SPECIAL_TOKENS } from './vocab.ts';

export interface TrainOptions {
  vocabSize: number;
  /** A symbol or merge enters the vocabulary only if it occurs at least this often; default 2. */
  minFrequency?: number;
  lowercase: boolean;
}

/**
 * Learns a WordPiece vocabulary from text files, the way Hugging Face's WordPieceTrainer does:
 * words (after BERT's basic tokenization) start as characters, non-initial ones `##`-prefixed, and
 * the most frequent adjacent pair is merged until the vocabulary is full or no pair is frequent
 * enough. The vocabulary is `[PAD] [UNK] [CLS] [SEP] [MASK]`, then characters by frequency, then
 * merges in the order learned.
 */
export function trainWordPieceVocab(files: string[], opts: TrainOptions): BertTokenizer {
  const minFrequency = opts.minFrequency ?? 2;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < SPECIAL_TOKENS.length) {
    throw new BertError(`vocab size must be an integer >= ${SPECIAL_TOKENS.length}, got ${opts.vocabSize}`);
  }
  const wordCounts = new Map<string, number>();
  for (const file of files) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new BertError(code === 'ENOENT' ? 'corpus file not found' : code ? (err as Error).message : 'not valid UTF-8', file);
    }
    for (const line of text.split('\n')) {
      for (const word of basicTokenize(line, opts.lowercase)) {
        const w = word.chars.join('');
        wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
      }
    }
  }
  return new BertTokenizer(learnVocab(wordCounts, opts.vocabSize, minFrequency), opts.lowercase);
}

/** Max-heap of [count, pair key]: higher count first, then the smaller key, for a deterministic order. */
class PairHeap {
  private readonly items: Array<[number, number]> = [];
  get size(): number {
    return this.items.length;
  }
  private above(a: [number, number], b: [number, number]): boolean {
    return a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
  }
  push(item: [number, number]): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.above(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.above(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

// Pair keys pack two symbol ids; 2^26 symbols is far beyond any vocabulary.
const KEY = 2 ** 26;

function learnVocab(wordCounts: Map<string, number>, vocabSize: number, minFrequency: number): string[] {
  const charCounts = new Map<string, number>();
  const splitWords: string[][] = [];
  const freqs: number[] = [];
  for (const [word, count] of wordCounts) {
    const symbols = [...word].map((c, i) => (i === 0 ? c : `##${c}`));
    for (const s of symbols) charCounts.set(s, (charCounts.get(s) ?? 0) + count);
    splitWords.push(symbols);
    freqs.push(count);
  }
  const vocab: string[] = [...SPECIAL_TOKENS];
  const inVocab = new Set<string>(vocab);
  const alphabet = [...charCounts]
    .filter(([s, c]) => c >= minFrequency && !inVocab.has(s))
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (const [s] of alphabet) {
    if (vocab.length >= vocabSize) break;
    vocab.push(s);
    inVocab.add(s);
  }

  const symbolIds = new Map<string, number>();
  const symbols: string[] = [];
  const idOf = (s: string): number => {
    let id = symbolIds.get(s);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(s);
      symbolIds.set(s, id);
    }
    return id;
  };
  // Words with a symbol outside the alphabet can never be pieced; they take no part in merges.
  const words: number[][] = [];
  const wordFreq: number[] = [];
  for (const [i, pieces] of splitWords.entries()) {
    if (pieces.every((s) => inVocab.has(s))) {
      words.push(pieces.map(idOf));
      wordFreq.push(freqs[i]!);
    }
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const heap = new PairHeap();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>): void => {
    const word = words[w]!;
    const freq = wordFreq[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i]! * KEY + word[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const key of initial) heap.push([pairCount.get(key)!, key]);

  while (vocab.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop()!;
    if (pairCount.get(key) !== count) continue; // stale entry; the current count was pushed too
    if (count < minFrequency || count <= 0) break;
    const a = Math.floor(key / KEY);
    const b = key % KEY;
    const merged = symbols[a]! + symbols[b]!.slice(2);
    const c = idOf(merged);
    if (!inVocab.has(merged)) {
      vocab.push(merged);
      inVocab.add(merged);
    }
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const word = words[w]!;
      addPairs(w, -1, touched);
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          next.push(c);
          i++;
        } else next.push(word[i]!);
      }
      words[w] = next;
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const k of touched) {
      const n = pairCount.get(k);
      if (n !== undefined && n > 0) heap.push([n, k]);
    }
  }
  return vocab;
}
