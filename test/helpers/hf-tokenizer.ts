// Hugging Face's Rust tokenizer (the `tokenizers` dev dependency) set up as BERT from its own
// builders: the independent reference for our tokenizer.json writer and for tokenizer speed.
import { createRequire } from 'node:module';
import type * as Hf from 'tokenizers';
import { MAX_INPUT_CHARS_PER_WORD } from '../../src/tokenizer/hf-json.ts';
import type { SpecialTokenIds } from '../../src/tokenizer/types.ts';

// The binding is CommonJS (napi-rs); a require keeps its named exports typed under NodeNext.
export const hf = createRequire(import.meta.url)('tokenizers') as typeof Hf;

/** A Hugging Face Tokenizer set up as BERT: BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] A [SEP] B [SEP]`. */
export function hfBertTokenizer(vocab: readonly string[], lowercase: boolean, special: SpecialTokenIds): Hf.Tokenizer {
  const ids: Record<string, number> = {};
  vocab.forEach((token, id) => {
    ids[token] = id;
  });
  const tok = new hf.Tokenizer(
    hf.WordPiece.init(ids, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: MAX_INPUT_CHARS_PER_WORD }),
  );
  tok.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: lowercase, lowercase }));
  tok.setPreTokenizer(hf.bertPreTokenizer());
  tok.setPostProcessor(
    hf.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [
      ['[CLS]', special.cls],
      ['[SEP]', special.sep],
    ]),
  );
  tok.setDecoder(hf.wordPieceDecoder('##', true));
  tok.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => vocab.includes(t)));
  return tok;
}
