// Delimited text as rows, no file access (the browser build uses this; lines.ts reads the files).
import { BertError } from '../../errors.ts';

export interface Row {
  fields: string[];
  /** 1-based line the row starts on. */
  line: number;
}

/** Lines without their terminator (LF or CRLF); a final newline adds no empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** TAB-separated rows of `text`, no quote handling: GLUE fields hold bare `"` characters. */
export function parseTsv(text: string): Row[] {
  return splitLines(text).map((l, i) => ({ fields: l.split('\t'), line: i + 1 }));
}

/** Comma-separated rows of `text` with RFC 4180 quoting (quoted fields may hold commas, quotes and newlines); `path` names it in errors. */
export function parseCsv(text: string, path: string): Row[] {
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
