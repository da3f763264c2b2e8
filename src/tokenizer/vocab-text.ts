// A BERT vocabulary as text: parsing and checking it, no file access (the browser build uses this).
import { BertError } from '../errors.ts';
import { LIMITS } from '../limits.ts';

/** The five special tokens, in the order a new vocabulary puts them first (`[PAD]` = 0). */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/**
 * The tokens of a BERT `vocab.txt` (id = 0-based line number). Splits on "\n" only: bert-base-chinese
 * has a U+2028 token, which `splitlines()`-style splitting would break in two. A BOM, a final newline
 * and CRLF line ends are tolerated. `path` names the file in errors.
 */
export function parseVocab(bytes: Uint8Array, path: string): string[] {
  // Counted on the bytes, before a string per line exists: 60 MB of short lines are 10M tokens.
  let newlines = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) newlines++;
  if (newlines > LIMITS.vocabTokens) throw new BertError(`vocabulary has ${newlines} or more lines, over the limit of ${LIMITS.vocabTokens} tokens`, path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BertError('vocabulary file is not valid UTF-8', path);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const tokens = lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  validateVocab(tokens, (i) => `${path}:${i + 1}`, path);
  return tokens;
}

/** Checks a vocabulary (id -> token): not empty, no empty or duplicate token, has `[UNK]`. */
export function validateVocab(tokens: string[], where: (id: number) => string, file: string): void {
  if (tokens.length === 0) throw new BertError('vocabulary is empty', file);
  if (tokens.length > LIMITS.vocabTokens) throw new BertError(`vocabulary has ${tokens.length} tokens, over the limit of ${LIMITS.vocabTokens}`, file);
  const seen = new Map<string, number>();
  for (const [i, token] of tokens.entries()) {
    if (token === '') throw new BertError('empty token', where(i));
    const first = seen.get(token);
    if (first !== undefined) {
      throw new BertError(`duplicate token ${JSON.stringify(token)} (first at ${where(first)})`, where(i));
    }
    seen.set(token, i);
  }
  if (!seen.has('[UNK]')) throw new BertError('vocabulary has no [UNK] token', file);
}
