export { BertTokenizer } from './bert-tokenizer.ts';
export { WordPieceTokenizer } from './wordpiece-tokenizer.ts';
export { trainWordPieceVocab } from './train.ts';
export { readVocabFile, SPECIAL_TOKENS } from './vocab.ts';
export type { EncodeOptions, Encoding, SpecialTokenIds } from './types.ts';
export { utf8Lines } from './lines.ts';
