// Small stand-ins for the pre-training data tests: a whitespace word-piece tokenizer over a made-up
// vocabulary, and a synthetic corpus in the one-sentence-a-line format.
import type { PretrainingTokenizer } from '../../src/data/make.ts';
import { Rng } from '../../src/data/random.ts';

/**
 * Vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK], then the words w0..w{n-1}; words wN with N >= 100 are
 * split into "wN" + "##x" + "##y" (three pieces), so whole-word masking has groups to keep.
 */
export function fakeTokenizer(numWords = 300): PretrainingTokenizer {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '##x', '##y'];
  for (let i = 0; i < numWords; i++) tokens.push(`w${i}`);
  const ids = new Map(tokens.map((t, i) => [t, i]));
  return {
    tokenize: (text) =>
      text
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w)
        .flatMap((w) => (ids.has(w) ? (Number(w.slice(1)) >= 100 ? [w, '##x', '##y'] : [w]) : ['[UNK]'])),
    tokenToId: (t) => ids.get(t) ?? 1,
    idToToken: (id) => tokens[id]!,
    vocab: () => tokens.slice(),
    vocabSize: tokens.length,
    specialIds: { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 },
  };
}

/** `numDocs` documents of `minSent`..`maxSent` sentences of `minWords`..`maxWords` words. */
export function syntheticCorpus(
  seed: number,
  numDocs: number,
  { minSent = 3, maxSent = 12, minWords = 4, maxWords = 14, numWords = 300 } = {},
): string {
  const rng = Rng.fromSeed(seed);
  const docs: string[] = [];
  for (let d = 0; d < numDocs; d++) {
    const lines: string[] = [];
    const n = rng.randint(minSent, maxSent);
    for (let s = 0; s < n; s++) {
      const k = rng.randint(minWords, maxWords);
      const words: string[] = [];
      for (let w = 0; w < k; w++) words.push(`w${rng.randint(0, numWords - 1)}`);
      lines.push(words.join(' '));
    }
    docs.push(lines.join('\n'));
  }
  return `${docs.join('\n\n')}\n`;
}
