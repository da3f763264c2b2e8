// Reading a JSON file from outside: size checked before reading, one-line errors, nesting bounded.
import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { checkJsonDepth } from '../limits.ts';
import { checkFileSize } from './file-size.ts';
import { oneLine, parseJson } from './json-text.ts';

/**
 * The JSON value in `path` (called `name` in messages: "config.json"). Refused before reading when
 * over `limit` bytes; before parsing, when it nests deeper than LIMITS.jsonDepth.
 */
export function readJsonFile(path: string, name: string, limit: number): unknown {
  checkFileSize(path, limit, name);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BertError(code === 'ENOENT' ? `${name} not found` : `cannot read ${name}: ${oneLine((err as Error).message)}`, path);
  }
  checkJsonDepth(text, path);
  return parseJson(text, path);
}
