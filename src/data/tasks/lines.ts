// Reading delimited text files: TSV without quoting (as GLUE and BERT read them), RFC 4180 CSV,
// and JSON Lines. Every row keeps its 1-based line number for error messages.
import { readFileSync } from 'node:fs';
import { BertError } from '../../errors.ts';
import { oneLine } from '../../io/json.ts';
import { checkFileSize, FILE_LIMITS } from '../../limits.ts';

export interface Row {
  fields: string[];
  /** 1-based line the row starts on. */
  line: number;
}

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

/** Lines without their terminator (LF or CRLF); a final newline adds no empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** TAB-separated rows, no quote handling: GLUE fields hold bare `"` characters. */
export function readTsv(path: string): Row[] {
  return splitLines(readText(path)).map((l, i) => ({ fields: l.split('\t'), line: i + 1 }));
}

/** Comma-separated rows with RFC 4180 quoting (quoted fields may hold commas, quotes and newlines). */
export function readCsv(path: string): Row[] {
  const text = readText(path);
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  let quoted = false;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      endRow();
      line++;
      rowLine = line;
    } else if (c !== '\r' || text[i + 1] !== '\n') field += c;
    i++;
  }
  if (quoted) throw new BertError('unterminated quoted field', `${path}:${rowLine}`);
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** One JSON object per non-empty line. */
export function readJsonl(path: string): Array<{ value: Record<string, unknown>; line: number }> {
  const out: Array<{ value: Record<string, unknown>; line: number }> = [];
  splitLines(readText(path)).forEach((l, i) => {
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
