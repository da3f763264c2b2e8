// Held-out documents for evaluating pre-training: a corpus in BERT's input layout (a blank line
// between documents) split into training and held-out text by document, every n-th held out.
import { BertError } from '../errors.ts';

export interface HeldOutSplit {
  train: string;
  heldOut: string;
  trainDocuments: number;
  heldOutDocuments: number;
}

/**
 * Documents 0, n, 2n, ... (counting non-empty ones from 0) go to `heldOut`, the rest to `train`;
 * with `maxDocuments`, only the first that many documents are used.
 */
export function holdOutDocuments(text: string, every: number, maxDocuments?: number): HeldOutSplit {
  if (!Number.isInteger(every) || every < 2) throw new BertError(`hold out every n-th document needs an integer n >= 2, got ${every}`);
  const documents = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((d) => d.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\n'))
    .filter((d) => d !== '')
    .slice(0, maxDocuments);
  const heldOut = documents.filter((_, i) => i % every === 0);
  const train = documents.filter((_, i) => i % every !== 0);
  if (train.length === 0 || heldOut.length === 0) throw new BertError(`${documents.length} documents: too few to hold out every ${every}-th and keep some to train on`);
  const join = (docs: string[]) => `${docs.join('\n\n')}\n`;
  return { train: join(train), heldOut: join(heldOut), trainDocuments: train.length, heldOutDocuments: heldOut.length };
}

export type ExampleFileLayout = 'tsv-header' | 'conll';

/**
 * A training file split into the rest and about `n` held-out examples (every k-th, spread over the
 * file), in the file's own layout: TSV with a header line (kept at the top of both), or CoNLL
 * columns with blank lines between sentences. For picking a stopping step without the evaluation set.
 */
export function holdOutExamples(text: string, layout: ExampleFileLayout, n: number): { rest: string; heldOut: string; heldOutCount: number } {
  const normalized = text.replace(/\r\n?/g, '\n');
  let header: string[] = [];
  let units: string[];
  if (layout === 'tsv-header') {
    const lines = normalized.split('\n');
    header = lines.slice(0, 1);
    units = lines.slice(1).filter((l) => l.trim() !== '');
  } else {
    units = normalized.split(/\n[ \t]*\n/).map((b) => b.replace(/^\n+|\n+$/g, '')).filter((b) => b.trim() !== '' && !/^-DOCSTART-/.test(b.trim()));
  }
  if (units.length < 2 * n) throw new BertError(`${units.length} examples: too few to hold out ${n} and train on the rest`);
  const every = Math.floor(units.length / n);
  const picked = (i: number) => i % every === 0 && i / every < n;
  const write = (u: string[]) => (layout === 'tsv-header' ? `${[...header, ...u].join('\n')}\n` : `${u.join('\n\n')}\n`);
  const held = units.filter((_, i) => picked(i));
  return { rest: write(units.filter((_, i) => !picked(i))), heldOut: write(held), heldOutCount: held.length };
}
