// The library's public API: everything the CLI can do, typed.
export { BertError } from './errors.ts';
export { BertTokenizer, trainWordPieceVocab, readVocabFile, SPECIAL_TOKENS } from './tokenizer/index.ts';
export type { EncodeOptions, Encoding, SpecialTokenIds } from './tokenizer/index.ts';
