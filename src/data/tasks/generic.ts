// Classification/regression data in any CSV, TSV or JSON Lines file, columns chosen by name.
import { extname } from 'node:path';
import { BertError } from '../../errors.ts';
import { readCsv, readJsonl, readTsv, type Row } from './lines.ts';
import type { TextExample } from './types.ts';

export interface ColumnOptions {
  /** Column of the first text; default the first of sentence, text, sentence1, text_a present. */
  textColumn?: string;
  /** Column of the second text; default sentence2 or text_b when present, else none. */
  textPairColumn?: string;
  /** Default `label`. */
  labelColumn?: string;
  /** Default from the extension: .csv, .tsv, .jsonl/.json. */
  format?: 'csv' | 'tsv' | 'jsonl';
}

const TEXT_DEFAULTS = ['sentence', 'text', 'sentence1', 'text_a'];
const PAIR_DEFAULTS = ['sentence2', 'text_b'];

function formatOf(path: string, format: ColumnOptions['format']): 'csv' | 'tsv' | 'jsonl' {
  if (format !== undefined) return format;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.txt') return 'tsv';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  throw new BertError(`cannot tell the format from the extension ${JSON.stringify(ext)}: use .csv, .tsv or .jsonl`, path);
}

/** Rows as name -> value records, with the line each came from. */
function records(path: string, format: 'csv' | 'tsv' | 'jsonl'): { columns: string[]; rows: Array<{ get: (c: string) => string | undefined; line: number }> } {
  if (format === 'jsonl') {
    const rows = readJsonl(path);
    const columns = rows.length > 0 ? Object.keys(rows[0]!.value) : [];
    return {
      columns,
      rows: rows.map(({ value, line }) => ({
        line,
        get: (c) => {
          const v = value[c];
          if (v === undefined || v === null) return undefined;
          return typeof v === 'string' ? v : String(v);
        },
      })),
    };
  }
  const all: Row[] = format === 'csv' ? readCsv(path) : readTsv(path);
  const columns = all[0]!.fields;
  const index = new Map(columns.map((c, i) => [c, i]));
  return {
    columns,
    rows: all.slice(1).map(({ fields, line }) => ({ line, get: (c) => fields[index.get(c) as number] })),
  };
}

/** Examples from a delimited file with a header row (or JSON Lines objects). */
export function readColumns(path: string, options: ColumnOptions = {}): TextExample[] {
  const { columns, rows } = records(path, formatOf(path, options.format));
  if (rows.length === 0) throw new BertError('no examples', path);
  const has = (c: string): boolean => columns.includes(c);
  const pick = (given: string | undefined, defaults: string[], what: string, required: boolean): string | undefined => {
    if (given !== undefined) {
      if (!has(given)) throw new BertError(`no ${what} column ${JSON.stringify(given)}; columns are ${JSON.stringify(columns)}`, path);
      return given;
    }
    const found = defaults.find(has);
    if (found === undefined && required) {
      throw new BertError(`no ${what} column (looked for ${defaults.join(', ')}); columns are ${JSON.stringify(columns)}: pass --text-column`, path);
    }
    return found;
  };
  const textCol = pick(options.textColumn, TEXT_DEFAULTS, 'text', true) as string;
  const pairCol = pick(options.textPairColumn, PAIR_DEFAULTS, 'text pair', false);
  const labelCol = pick(options.labelColumn, ['label'], 'label', true) as string;
  return rows.map(({ get, line }) => {
    const where = `${path}:${line}`;
    const field = (c: string): string => {
      const v = get(c);
      if (v === undefined) throw new BertError(`row has no value for column ${JSON.stringify(c)}`, where);
      return v;
    };
    const ex: TextExample = { text_a: field(textCol), label: field(labelCol), where };
    if (pairCol !== undefined) ex.text_b = field(pairCol);
    return ex;
  });
}
