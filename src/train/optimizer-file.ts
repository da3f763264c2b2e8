// The AdamW state as a file (Node only): one safetensors file of moments plus the step count.
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors.ts';
import type { AdamW } from './optimizer.ts';

/** Writes the optimizer state (moments and step count) as one safetensors file, atomically. */
export function saveOptimizerState(optimizer: AdamW, path: string): void {
  writeSafetensors(path, optimizer.stateTensors(), optimizer.stateMetadata());
}

/** Restores state written by `saveOptimizerState`; a bad file leaves the optimizer as it was. */
export function loadOptimizerState(optimizer: AdamW, path: string): void {
  optimizer.restore(readSafetensors(path), path);
}
