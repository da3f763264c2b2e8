// Reading a Hugging Face tokenizer.json from its text, no file access (the browser build uses this).
import { BertError } from '../errors.ts';
import { parseJson } from '../io/json-text.ts';
import { checkJsonDepth, LIMITS } from '../limits.ts';
import { validateVocab } from './vocab-text.ts';

export const MAX_INPUT_CHARS_PER_WORD = 100;

/** What we need from a Hugging Face tokenizer.json: a WordPiece vocabulary and the normalizer's casing. */
export interface TokenizerJson {
  vocab: string[];
  lowercase: boolean;
}

/** Parses the text of a tokenizer.json that describes a BERT WordPiece tokenizer; `path` names it in errors. */
export function parseTokenizerJson(text: string, path: string): TokenizerJson {
  checkJsonDepth(text, path);
  const doc = parseJson(text, path);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new BertError('tokenizer.json must hold a JSON object', path);
  const model = (doc as { model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string } }).model;
  if (model?.type !== 'WordPiece' || typeof model.vocab !== 'object' || model.vocab === null) {
    throw new BertError(`expected a WordPiece model, got ${JSON.stringify(model?.type ?? null)}`, path);
  }
  if ((model.unk_token ?? '[UNK]') !== '[UNK]' || (model.continuing_subword_prefix ?? '##') !== '##') {
    throw new BertError('expected unk_token [UNK] and continuing_subword_prefix ##', path);
  }
  const count = Object.keys(model.vocab).length;
  if (count > LIMITS.vocabTokens) throw new BertError(`vocabulary has ${count} tokens, over the limit of ${LIMITS.vocabTokens}`, path);
  const entries = Object.entries(model.vocab);
  const vocab: string[] = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
      throw new BertError(`vocabulary ids must be 0..${entries.length - 1}, each once; ${JSON.stringify(token)} has ${id}`, path);
    }
    vocab[id] = token;
  }
  validateVocab(vocab, (id) => `${path}: id ${id}`, path);
  const normalizer = (doc as { normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null } }).normalizer;
  if (normalizer?.type !== 'BertNormalizer') {
    throw new BertError(`expected a BertNormalizer, got ${JSON.stringify(normalizer?.type ?? null)}`, path);
  }
  const lowercase = normalizer.lowercase ?? true;
  // BERT strips accents exactly when it lowercases; transformers writes null for "follow lowercase".
  if (normalizer.strip_accents != null && normalizer.strip_accents !== lowercase) {
    throw new BertError(`strip_accents ${normalizer.strip_accents} with lowercase ${lowercase} is not a BERT tokenizer`, path);
  }
  return { vocab, lowercase };
}
