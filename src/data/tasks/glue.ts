// The GLUE tasks in their official TSV layouts (as written by GLUE's download script and read
// by BERT's run_classifier.py / Hugging Face's glue processors): no column flags needed.
import { BertError } from '../../errors.ts';
import { readTsv } from './lines.ts';
import type { TextExample } from './types.ts';

export const GLUE_TASKS = ['sst2', 'cola', 'mrpc', 'rte', 'stsb', 'qnli', 'mnli', 'qqp', 'wnli'] as const;
export type GlueTaskName = (typeof GLUE_TASKS)[number];

export interface GlueLayout {
  header: boolean;
  text_a: number;
  text_b?: number;
  /** Column index; -1 is the last column (MNLI's dev files carry five annotator labels before it). */
  label: number;
  /** Canonical label order (Hugging Face's processors); undefined for regression. */
  labels?: readonly string[];
}

const BINARY = ['0', '1'];
const ENTAILMENT = ['entailment', 'not_entailment'];

export const GLUE_LAYOUTS: Record<GlueTaskName, GlueLayout> = {
  cola: { header: false, text_a: 3, label: 1, labels: BINARY },
  sst2: { header: true, text_a: 0, label: 1, labels: BINARY },
  mrpc: { header: true, text_a: 3, text_b: 4, label: 0, labels: BINARY },
  stsb: { header: true, text_a: 7, text_b: 8, label: 9 },
  qqp: { header: true, text_a: 3, text_b: 4, label: 5, labels: BINARY },
  mnli: { header: true, text_a: 8, text_b: 9, label: -1, labels: ['contradiction', 'entailment', 'neutral'] },
  qnli: { header: true, text_a: 1, text_b: 2, label: 3, labels: ENTAILMENT },
  rte: { header: true, text_a: 1, text_b: 2, label: 3, labels: ENTAILMENT },
  wnli: { header: true, text_a: 1, text_b: 2, label: 3, labels: BINARY },
};

export function isGlueTask(name: string): name is GlueTaskName {
  return (GLUE_TASKS as readonly string[]).includes(name);
}

/** Examples of a GLUE train or dev file; a row lacking a column is an error naming its line. */
export function readGlue(task: GlueTaskName, path: string): TextExample[] {
  const layout = GLUE_LAYOUTS[task];
  const rows = readTsv(path);
  const body = layout.header ? rows.slice(1) : rows;
  if (body.length === 0) throw new BertError('no examples after the header', path);
  const width = Math.max(layout.text_a, layout.text_b ?? 0, layout.label) + 1;
  return body.map(({ fields, line }) => {
    const where = `${path}:${line}`;
    if (fields.length < width) {
      throw new BertError(`${task} row has ${fields.length} TAB-separated columns, needs at least ${width}`, where);
    }
    const label = fields[layout.label < 0 ? fields.length + layout.label : layout.label]!;
    if (layout.labels === undefined && !Number.isFinite(Number.parseFloat(label))) {
      throw new BertError(`${task} score ${JSON.stringify(label)} is not a number`, where);
    }
    const ex: TextExample = { text_a: fields[layout.text_a]!, label, where };
    if (layout.text_b !== undefined) ex.text_b = fields[layout.text_b];
    return ex;
  });
}
