// Delimited text as rows, no file access (the browser build uses this; lines.ts reads the files).
import { BertError } from '../../errors.ts';
import { LIMITS } from '../../limits.ts';

export interface Row {
  fields: string[];
  /** 1-based line the row starts on. */
  line: number;
}

/** Lines without their terminator (LF or CRLF); a final newline adds no empty line. `path` names the text in errors. */
export function splitLines(text: string, path: string): string[] {
  // Counted before a string per line exists: 60 MB of empty lines would be 60M strings.
  let count = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && count <= LIMITS.taskRows; nl = text.indexOf('\n', nl + 1)) count++;
  if (count > LIMITS.taskRows) throw new BertError(`more than ${LIMITS.taskRows} lines (the limit)`, path);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** TAB-separated rows of `text`, no quote handling: GLUE fields hold bare `"` characters. */
export function parseTsv(text: string, path: string): Row[] {
  return splitLines(text, path).map((l, i) => {
    // split's limit stops a row of a million TABs from becoming a million strings.
    const fields = l.split('\t', LIMITS.taskColumns + 1);
    if (fields.length > LIMITS.taskColumns) throw new BertError(`more than ${LIMITS.taskColumns} columns (the limit)`, `${path}:${i + 1}`);
    return { fields, line: i + 1 };
  });
}

/**
 * The rows of CSV text, RFC 4180 quoting (quoted fields may hold commas, quotes and newlines); `path`
 * names it in errors. Scans for the next special character and slices, so a field costs one copy
 * however long it is (appending a character at a time took 26 s for one 60 MB field).
 */
export function parseCsv(text: string, path: string): Row[] {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ fields, line: rowLine });
    if (rows.length > LIMITS.taskRows) throw new BertError(`more than ${LIMITS.taskRows} rows (the limit)`, path);
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE && field === '') {
      // A quoted field runs to the first quote that is not doubled.
      let q = text.indexOf('"', i + 1);
      while (q !== -1 && text.charCodeAt(q + 1) === QUOTE) q = text.indexOf('"', q + 2);
      if (q === -1) throw new BertError('unterminated quoted field', `${path}:${rowLine}`);
      const raw = text.slice(i + 1, q);
      field = raw.includes('"') ? raw.replaceAll('""', '"') : raw;
      for (let nl = raw.indexOf('\n'); nl !== -1; nl = raw.indexOf('\n', nl + 1)) line++;
      i = q + 1;
    } else if (c === COMMA) {
      fields.push(field);
      if (fields.length >= LIMITS.taskColumns) throw new BertError(`more than ${LIMITS.taskColumns} columns (the limit)`, `${path}:${rowLine}`);
      field = '';
      i++;
    } else if (c === NEWLINE) {
      endRow();
      line++;
      rowLine = line;
      i++;
    } else if (c === CR) {
      if (text.charCodeAt(i + 1) !== NEWLINE) field += '\r';
      i++;
    } else {
      // Plain characters up to the next one that means something.
      let j = i + 1;
      for (let d = text.charCodeAt(j); j < text.length && d !== COMMA && d !== NEWLINE && d !== CR && d !== QUOTE; d = text.charCodeAt(++j));
      // A quote inside an unquoted field is an ordinary character.
      if (j < text.length && text.charCodeAt(j) === QUOTE) j++;
      field += text.slice(i, j);
      i = j;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CR = 0x0d;
