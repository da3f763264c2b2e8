// Reading config.json from disk (Node only); config.ts parses its text and stays file-free for the browser build.
import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { checkFileSize } from '../io/file-size.ts';
import { FILE_LIMITS } from '../limits.ts';
import { parseConfigJson, type BertConfig } from './config.ts';

/** Reads and validates a Hugging Face config.json. */
export function readConfigJson(path: string): BertConfig {
  checkFileSize(path, FILE_LIMITS['config.json'], 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BertError(`cannot read config: ${(err as Error).message}`, path);
  }
  return parseConfigJson(text, path);
}
