// Reading delimited text files: TSV without quoting (as GLUE and BERT read them), RFC 4180 CSV,
// and JSON Lines. Every row keeps its 1-based line number for error messages.
import { readFileSync } from 'node:fs';
import { BertError } from '../../errors.ts';
import { checkFileSize } from '../../io/file-size.ts';
import { oneLine } from '../../io/json-text.ts';
import { FILE_LIMITS } from '../../limits.ts';
import { parseCsv, parseTsv, splitLines, type Row } from './delimited.ts';

export { parseCsv, parseTsv, splitLines, type Row } from './delimited.ts';

/** The file's text without a UTF-8 BOM; an empty (or whitespace-only) file is an error. */
export function readText(path: string): string {
  checkFileSize(path, FILE_LIMITS.task, 'task file');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BertError(`cannot read: ${(e as Error).message}`, path);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new BertError('empty file', path);
  return text;
}

/** TAB-separated rows, no quote handling: GLUE fields hold bare `"` characters. */
export function readTsv(path: string): Row[] {
  return parseTsv(readText(path), path);
}

/** Comma-separated rows with RFC 4180 quoting (see parseCsv). */
export function readCsv(path: string): Row[] {
  return parseCsv(readText(path), path);
}

/** One JSON object per non-empty line. */
export function readJsonl(path: string): Array<{ value: Record<string, unknown>; line: number }> {
  const out: Array<{ value: Record<string, unknown>; line: number }> = [];
  splitLines(readText(path), path).forEach((l, i) => {
    if (l.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch (e) {
      throw new BertError(`bad JSON: ${oneLine((e as Error).message)}`, `${path}:${i + 1}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new BertError('expected one JSON object per line', `${path}:${i + 1}`);
    }
    out.push({ value: value as Record<string, unknown>, line: i + 1 });
  });
  return out;
}
