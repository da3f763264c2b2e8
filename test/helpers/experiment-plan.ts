// A study small enough for a test: two small sizes, a few steps, and every task's files cut to a few
// dozen examples (copies in `scratch`), so that a whole study runs in about a minute on 2 cores.
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { writeBrownPosFiles } from '../../src/cli/start-finetune.ts';
import { makePlan, type ExperimentPlan, type TaskPlan } from '../../src/cli/experiment/plan.ts';

/** The first `n` examples of a TSV (header kept) or CoNLL file, written to `dst`. */
function head(src: string, dst: string, n: number): string {
  const text = readFileSync(src, 'utf8').replace(/\r\n?/g, '\n');
  const out = extname(src) === '.tsv'
    ? `${text.split('\n').slice(0, n + 1).join('\n')}\n`
    : `${text.split(/\n[ \t]*\n/).filter((b) => b.trim() !== '' && !b.startsWith('-DOCSTART-')).slice(0, n).join('\n\n')}\n`;
  writeFileSync(dst, out);
  return dst;
}

export function tinyStudyPlan(dataDir: string, out: string, scratch: string): ExperimentPlan {
  const plan = makePlan(1, dataDir, out);
  const brown = writeBrownPosFiles(join(scratch, 'brown-pos'), { holdOutEvery: 20, train: Infinity, dev: Infinity, test: Infinity, seed: 1 });
  const task = (t: TaskPlan): TaskPlan => {
    const ext = extname(t.train) === '.tsv' ? '.tsv' : '.conll';
    const [train, test] = t.generated ? [brown.train, brown.dev] : [t.train, t.test];
    return {
      ...t, generated: false, train: head(train, join(scratch, `${t.id}-train${ext}`), 600), test: head(test, join(scratch, `${t.id}-test${ext}`), 30),
      selectionExamples: 20, trainExamples: 24, maxSeqLength: 32, epochs: 1, batchSize: 8, evalsPerRun: 2,
    };
  };
  const pretrain = { steps: 6, batchSize: 4, maxSeqLength: 32, lr: 1e-3, dupeFactor: 1 };
  return {
    ...plan,
    maxDocuments: 40,
    english: { ...plan.english, sizes: ['tiny', 'mini'], vocabSize: 400, pretrain, tasks: plan.english.tasks.map(task) },
    chinese: { ...plan.chinese, size: 'tiny', pretrain, tasks: plan.chinese.tasks.map(task) },
  };
}
