// Reading a JSON file from outside: size checked before reading, one-line errors, nesting bounded.
import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { checkFileSize, checkJsonDepth } from '../limits.ts';

/** An error message on one line: V8's JSON errors quote the text around the bad token, newlines included. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

/** `JSON.parse(text)`, or a one-line BertError at `where` starting with `what` ("config is not valid JSON"). */
export function parseJson(text: string, where: string, what = 'not valid JSON'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BertError(`${what} (${oneLine((err as Error).message)})`, where);
  }
}

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
