// A study as a list of stages, each with its own folder under the output folder. A stage is done
// when its result.json exists (written atomically, last): a rerun skips it and reads the result back,
// so killing the study and running the same command again continues where it stopped. One progress
// bar covers every stage still to run, in units of estimated seconds, so its ETA spans the whole study.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';

export interface StageContext {
  /** The stage's own folder (created before `run`). */
  dir: string;
  /** Reports how far the stage is, in [0, 1]. */
  progress(fraction: number): void;
  /** Records a command line that reproduces (part of) this stage with the `bert` CLI. */
  command(argv: string[]): void;
  log(line: string): void;
}

export interface Stage<R = unknown> {
  /** Folder name under the output folder, e.g. "en-pretrain-mini". */
  id: string;
  title: string;
  /** Estimated seconds on the reference machine: the stage's share of the progress bar. */
  cost: number;
  run(ctx: StageContext): Promise<R>;
}

export interface StageRecord<R = unknown> {
  id: string;
  title: string;
  /** Wall time of the run that made the result (a skipped stage keeps its earlier time). */
  seconds: number;
  /** Whether this invocation found the stage done and skipped it. */
  skipped: boolean;
  commands: string[][];
  result: R;
}

export interface StageEvents {
  /** Called with (units done, total units, stage id) as stages progress. */
  onProgress?: (done: number, total: number, stage: string) => void;
  /** Called after every finished or skipped stage, with all records so far (to rewrite the report). */
  onRecord?: (records: StageRecord[]) => void;
  /** Called when a stage starts, finishes or is found done (for a JSON Lines log). */
  onEvent?: (e: { stage: string; event: 'start' | 'done' | 'skipped'; seconds?: number }) => void;
  log: (line: string) => void;
}

export const resultPath = (out: string, id: string): string => join(out, id, 'result.json');

/** Runs the stages in order, skipping those with a result.json; returns every stage's record. */
export async function runStages(stages: readonly Stage[], out: string, ev: StageEvents): Promise<StageRecord[]> {
  const ids = new Set<string>();
  for (const s of stages) {
    if (ids.has(s.id)) throw new Error(`duplicate stage id ${s.id}`);
    ids.add(s.id);
  }
  const done = new Set(stages.filter((s) => existsSync(resultPath(out, s.id))).map((s) => s.id));
  const total = stages.reduce((a, s) => a + s.cost, 0);
  let position = stages.filter((s) => done.has(s.id)).reduce((a, s) => a + s.cost, 0);
  const records: StageRecord[] = [];
  for (const [i, stage] of stages.entries()) {
    const tag = `[${i + 1}/${stages.length}] ${stage.id}`;
    if (done.has(stage.id)) {
      const saved = JSON.parse(readFileSync(resultPath(out, stage.id), 'utf8')) as Omit<StageRecord, 'skipped'>;
      records.push({ ...saved, skipped: true });
      ev.log(`${tag}: done earlier (${saved.seconds.toFixed(0)} s), skipped`);
      ev.onEvent?.({ stage: stage.id, event: 'skipped', seconds: saved.seconds });
      ev.onRecord?.(records);
      continue;
    }
    ev.log(`${tag}: ${stage.title}`);
    ev.onEvent?.({ stage: stage.id, event: 'start' });
    const dir = join(out, stage.id);
    mkdirSync(dir, { recursive: true });
    const commands: string[][] = [];
    const base = position;
    ev.onProgress?.(position, total, stage.id);
    const t0 = performance.now();
    const result = await stage.run({
      dir,
      progress: (f) => ev.onProgress?.(base + Math.min(1, Math.max(0, f)) * stage.cost, total, stage.id),
      command: (argv) => commands.push(argv),
      log: (line) => ev.log(`  ${line}`),
    });
    const record: StageRecord = { id: stage.id, title: stage.title, seconds: +((performance.now() - t0) / 1000).toFixed(1), skipped: false, commands, result };
    writeFileAtomic(resultPath(out, stage.id), `${JSON.stringify({ ...record, skipped: undefined })}\n`);
    position = base + stage.cost;
    ev.onProgress?.(position, total, stage.id);
    ev.log(`${tag}: done in ${record.seconds.toFixed(0)} s`);
    ev.onEvent?.({ stage: stage.id, event: 'done', seconds: record.seconds });
    records.push(record);
    ev.onRecord?.(records);
  }
  return records;
}

/** The result of an earlier stage (for a later stage that builds on it); throws if it has not run. */
export function stageResult<R>(out: string, id: string): R {
  const path = resultPath(out, id);
  if (!existsSync(path)) throw new Error(`stage ${id} has no result yet (${path})`);
  return (JSON.parse(readFileSync(path, 'utf8')) as StageRecord<R>).result;
}
