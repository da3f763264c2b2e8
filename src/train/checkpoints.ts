// Training checkpoints: `out/checkpoint-<step>/` holds a Hugging Face model folder plus the optimizer
// state and where the run stood (training_state.json). A checkpoint is written into a temp folder and
// renamed into place, so a crash at any moment leaves every earlier checkpoint intact and never a
// half-written one under a real name.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { saveCheckpoint } from '../checkpoint/folder.ts';
import type { FloatTensor } from '../checkpoint/tensor.ts';
import { BertError } from '../errors.ts';
import { fsyncDir, writeFileAtomic } from '../io/atomic.ts';
import type { BertConfig } from '../model/config.ts';
import type { AdamW } from './optimizer.ts';
import { saveOptimizerState } from './optimizer-file.ts';

/** Everything besides weights and moments that an exact resume needs. */
export interface TrainingState {
  /** Optimizer steps completed. */
  step: number;
  epoch: number;
  /** Position in the epoch's example order where the next batch starts. */
  position: number;
  seed: number;
  /** Loss history for the curve, one entry per step so far. */
  history: Array<Record<string, number>>;
  /** The options the run was started with, to check a resume against. */
  options: Record<string, unknown>;
}

const STATE_FILE = 'training_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const PREFIX = 'checkpoint-';

export function saveTrainingCheckpoint(
  out: string,
  config: BertConfig,
  params: ReadonlyMap<string, FloatTensor>,
  optimizer: AdamW,
  state: TrainingState,
  tokenizerDir?: string,
): string {
  const final = join(out, `${PREFIX}${state.step}`);
  const tmp = join(out, `.${PREFIX}${state.step}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  saveCheckpoint(tmp, config, params, tokenizerDir === undefined ? {} : { tokenizerDir });
  saveOptimizerState(optimizer, join(tmp, OPTIMIZER_FILE));
  writeFileAtomic(join(tmp, STATE_FILE), `${JSON.stringify(state)}\n`);
  // A resumed run may save a step again: move the old folder aside first, since a recursive delete
  // cut short by a kill would leave a half-deleted checkpoint under a real name.
  if (existsSync(final)) discard(out, final);
  renameSync(tmp, final);
  fsyncDir(out);
  return final;
}

/** Complete checkpoints in `out`, oldest first. */
export function listCheckpoints(out: string): Array<{ step: number; dir: string }> {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((f) => f.startsWith(PREFIX) && /^\d+$/.test(f.slice(PREFIX.length)))
    .map((f) => ({ step: Number(f.slice(PREFIX.length)), dir: join(out, f) }))
    .filter((c) => existsSync(join(c.dir, STATE_FILE)))
    .sort((a, b) => a.step - b.step);
}

export function readTrainingState(dir: string): TrainingState {
  const path = join(dir, STATE_FILE);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TrainingState;
  } catch (err) {
    throw new BertError(`cannot read training state: ${(err as Error).message}`, path);
  }
}

export const optimizerStatePath = (dir: string): string => join(dir, OPTIMIZER_FILE);

/** Deletes all but the newest `keep` checkpoints (and temp folders a crash left behind). */
export function pruneCheckpoints(out: string, keep: number): void {
  const all = listCheckpoints(out);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) discard(out, c.dir);
  for (const f of readdirSync(out)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(out, f), { recursive: true, force: true });
}

/** Renames a checkpoint out of sight (atomic), then deletes it: a kill midway never leaves half of one. */
function discard(out: string, dir: string): void {
  const trash = join(out, `.discard-${Date.now()}-${process.pid}.tmp`);
  renameSync(dir, trash);
  fsyncDir(out);
  rmSync(trash, { recursive: true, force: true });
}
