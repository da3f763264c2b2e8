// A study small enough for a test: two tiny sizes, a few steps, a few examples, short dev sets.
import { makePlan, type ExperimentPlan, type TaskPlan } from '../../src/cli/experiment/plan.ts';

export function tinyStudyPlan(dataDir: string, out: string): ExperimentPlan {
  const plan = makePlan(1, dataDir, out);
  const task = (t: TaskPlan): TaskPlan => ({ ...t, trainExamples: 24, maxSeqLength: 32, epochs: 1, batchSize: 8, evalsPerRun: 2 });
  const pretrain = { steps: 6, batchSize: 4, maxSeqLength: 32, lr: 1e-3, dupeFactor: 1 };
  return {
    ...plan,
    maxDocuments: 40,
    english: { ...plan.english, sizes: ['tiny', 'mini'], vocabSize: 400, pretrain, tasks: plan.english.tasks.map(task) },
    chinese: { ...plan.chinese, size: 'tiny', pretrain, tasks: plan.chinese.tasks.map(task) },
  };
}
