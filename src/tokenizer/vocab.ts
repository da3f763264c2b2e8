import { existsSync, readFileSync, statSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { checkFileSize } from '../io/file-size.ts';
import { FILE_LIMITS } from '../limits.ts';
import { parseVocab } from './vocab-text.ts';

export { SPECIAL_TOKENS, parseVocab, validateVocab } from './vocab-text.ts';

/** Reads a BERT `vocab.txt` (see parseVocab). */
export function readVocabFile(path: string): string[] {
  if (!existsSync(path)) throw new BertError('vocabulary file not found', path);
  if (statSync(path).isDirectory()) throw new BertError('expected a vocab.txt file, got a directory', path);
  checkFileSize(path, FILE_LIMITS['vocab.txt'], 'vocab.txt');
  return parseVocab(readFileSync(path), path);
}
