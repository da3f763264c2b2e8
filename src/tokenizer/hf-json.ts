// tokenizer.json, Hugging Face's tokenizer file: written here in TypeScript in the layout the
// `tokenizers` library saves (BertNormalizer, BertPreTokenizer, WordPiece, `[CLS] A [SEP] B [SEP]`),
// and read back. The `tokenizers` binding is a dev dependency only: a round-trip test checks that it
// loads our file and encodes as we do.
import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { checkFileSize } from '../io/file-size.ts';
import { oneLine } from '../io/json-text.ts';
import { FILE_LIMITS } from '../limits.ts';
import type { SpecialTokenIds } from './types.ts';
import { MAX_INPUT_CHARS_PER_WORD, parseTokenizerJson, type TokenizerJson } from './tokenizer-json.ts';

export { MAX_INPUT_CHARS_PER_WORD, parseTokenizerJson, type TokenizerJson } from './tokenizer-json.ts';

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const VOCAB_SLOT = '\u0000vocab';

/** The tokenizer.json text for this vocabulary, byte for byte as `tokenizers` saves it (pretty-printed). */
export function tokenizerJsonText(vocab: readonly string[], lowercase: boolean, special: SpecialTokenIds): string {
  const ids = new Map(vocab.map((token, id) => [token, id]));
  const addedTokens = SPECIAL_TOKENS.filter((t) => ids.has(t))
    .map((content) => ({ id: ids.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const piece = (kind: 'SpecialToken' | 'Sequence', id: string, typeId: number) => ({ [kind]: { id, type_id: typeId } });
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: lowercase, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [piece('SpecialToken', '[CLS]', 0), piece('Sequence', 'A', 0), piece('SpecialToken', '[SEP]', 0)],
      pair: [piece('SpecialToken', '[CLS]', 0), piece('Sequence', 'A', 0), piece('SpecialToken', '[SEP]', 0), piece('Sequence', 'B', 1), piece('SpecialToken', '[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [special.cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [special.sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
      vocab: VOCAB_SLOT,
    },
  };
  // Written by hand in id order: a JS object would move integer-like tokens ("0", "1", ...) to the front.
  const entries = vocab.map((token, id) => `      ${JSON.stringify(token)}: ${id}`).join(',\n');
  return JSON.stringify(doc, null, 2).replace(JSON.stringify(VOCAB_SLOT), () => `{\n${entries}\n    }`);
}

/** Reads a tokenizer.json that describes a BERT WordPiece tokenizer. */
export function readTokenizerJson(path: string): TokenizerJson {
  checkFileSize(path, FILE_LIMITS['tokenizer.json'], 'tokenizer.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BertError(code === 'ENOENT' ? 'tokenizer.json not found' : `cannot read tokenizer.json: ${oneLine((err as Error).message)}`, path);
  }
  return parseTokenizerJson(text, path);
}
