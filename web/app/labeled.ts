// A labeled set as the page takes it: pasted `text<TAB>label` lines, or a TSV/CSV file whose header
// names a text column (sentence, text, sentence1, text_a) and `label` (text_b/sentence2 for pairs).
import { parseCsv, parseTsv, type Row } from '../../src/data/tasks/delimited.ts';
import type { TextExample } from '../../src/data/tasks/types.ts';
import { epochOrder } from '../../src/data/random.ts';
import { BertError } from '../../src/errors.ts';

const TEXT_COLUMNS = ['sentence', 'text', 'sentence1', 'text_a'];
const PAIR_COLUMNS = ['sentence2', 'text_b'];

/** Examples of `source` (named `name` in errors): CSV when the name ends in .csv, TAB-separated otherwise. */
export function parseLabeled(source: string, name: string): TextExample[] {
  const body = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const rows: Row[] = (name.toLowerCase().endsWith('.csv') ? parseCsv(body, name) : parseTsv(body, name)).filter((r) => r.fields.join('').trim() !== '');
  if (rows.length === 0) throw new BertError('no examples', name);
  const header = rows[0]!.fields.map((f) => f.trim());
  const textCol = TEXT_COLUMNS.map((c) => header.indexOf(c)).find((i) => i >= 0);
  const labelCol = header.indexOf('label');
  if (textCol !== undefined && labelCol >= 0) {
    const pairCol = PAIR_COLUMNS.map((c) => header.indexOf(c)).find((i) => i >= 0);
    return rows.slice(1).map((r) => {
      if (r.fields.length !== header.length) throw new BertError(`expected ${header.length} fields as in the header, got ${r.fields.length}`, `${name}:${r.line}`);
      return example(r, textCol, pairCol, labelCol, name);
    });
  }
  return rows.map((r) => {
    const n = r.fields.length;
    if (n !== 2 && n !== 3) throw new BertError(`expected text<TAB>label (or text<TAB>text_b<TAB>label), got ${n} field(s)`, `${name}:${r.line}`);
    return example(r, 0, n === 3 ? 1 : undefined, n - 1, name);
  });
}

function example(r: Row, text: number, pair: number | undefined, label: number, name: string): TextExample {
  const where = `${name}:${r.line}`;
  const ex: TextExample = { text_a: r.fields[text]!, label: r.fields[label]!.trim(), where };
  if (pair !== undefined) ex.text_b = r.fields[pair]!;
  if (ex.label === '') throw new BertError('empty label', where);
  return ex;
}

/**
 * A dev set split off a labeled set when none was given: a seeded `fraction` (at least one example,
 * at most half), the rest for training, each kept in its original order.
 */
export function holdOut(examples: readonly TextExample[], fraction: number, seed: number): { train: TextExample[]; dev: TextExample[] } {
  const n = Math.min(Math.floor(examples.length / 2), Math.max(1, Math.round(examples.length * fraction)));
  const dev = new Set([...epochOrder(examples.length, seed ^ 0xde5e7, 0)].slice(0, n));
  return { train: examples.filter((_, i) => !dev.has(i)), dev: examples.filter((_, i) => dev.has(i)) };
}
