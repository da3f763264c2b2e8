// Pre-training data in one import: making examples, reading them back, the PRNG, the Brown corpus.
export { makePretrainingData } from './make.ts';
export type { PretrainingTokenizer, MakePretrainingDataOptions, MakeSummary, MakeProgress } from './make.ts';
export { openPretrainingData, epochOrder } from './dataset.ts';
export type { PretrainingDataset } from './dataset.ts';
export { prefetchBatches } from './prefetch.ts';
export type { PrefetchedBatch, PrefetchOptions } from './prefetch.ts';
export type { PretrainingBatch, PretrainingExample } from './records.ts';
export { Rng } from './random.ts';
export type { RngState } from './random.ts';
export { splitSentences } from './sentences.ts';
export { brownDocuments, brownTaggedSentences, brownGenres, brownPretrainingText, brownSentenceText } from './brown.ts';
export type { BrownDocument, BrownTaggedSentence } from './brown.ts';
