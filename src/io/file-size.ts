// The file-size check every reader of an outside file makes before reading it (Node only: the
// limits themselves are in ../limits.ts, which the browser build shares).
import { statSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { formatBytes } from '../limits.ts';

/**
 * The size of `path` in bytes, or a BertError when it is over `limit` (what the file is called in
 * the message: "config.json", "task file"). A missing file is left to the reader's own message.
 */
export function checkFileSize(path: string, limit: number, what: string): number | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > limit) throw new BertError(`${what} is ${formatBytes(size)}, over the limit of ${formatBytes(limit)}`, path);
  return size;
}
