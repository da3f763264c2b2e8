// SWAG-style multiple choice CSV: `sent1` (or `startphrase`), `sent2`, `ending0..N`, `label`.
import { BertError } from '../../errors.ts';
import { readCsv } from './lines.ts';
import type { ChoiceExample } from './types.ts';

/**
 * Examples of a SWAG CSV. As Hugging Face's run_swag does, the context is `sent1` and each
 * choice is `sent2 + ' ' + ending`. Without `sent1`/`sent2`, the context is `startphrase` and the
 * start is empty. A missing `label` column means unlabelled data.
 */
export function readSwag(path: string): ChoiceExample[] {
  const rows = readCsv(path);
  if (rows.length === 0) throw new BertError('no header row', path);
  const header = rows[0]!.fields;
  const col = new Map(header.map((c, i) => [c, i]));
  const endingCols = header
    .map((c, i) => [c, i] as const)
    .filter(([c]) => /^ending\d+$/.test(c))
    .sort((a, b) => Number(a[0].slice(6)) - Number(b[0].slice(6)))
    .map(([, i]) => i);
  if (endingCols.length < 2) throw new BertError(`needs columns ending0, ending1, ...; got ${JSON.stringify(header)}`, `${path}:1`);
  const split = col.has('sent1') && col.has('sent2');
  if (!split && !col.has('startphrase')) throw new BertError('needs columns sent1 and sent2, or startphrase', `${path}:1`);
  const labelCol = col.get('label');
  if (rows.length < 2) throw new BertError('no examples', path);
  return rows.slice(1).map(({ fields, line }) => {
    const where = `${path}:${line}`;
    if (fields.length < header.length) throw new BertError(`row has ${fields.length} columns, the header ${header.length}`, where);
    const ex: ChoiceExample = {
      context: fields[col.get(split ? 'sent1' : 'startphrase') as number]!,
      start: split ? fields[col.get('sent2') as number]! : '',
      endings: endingCols.map((i) => fields[i]!),
      where,
    };
    if (labelCol !== undefined && fields[labelCol] !== '') {
      const label = Number(fields[labelCol]);
      if (!Number.isInteger(label) || label < 0 || label >= endingCols.length) {
        throw new BertError(`label ${JSON.stringify(fields[labelCol])} is not an ending index 0..${endingCols.length - 1}`, where);
      }
      ex.label = label;
    }
    return ex;
  });
}
