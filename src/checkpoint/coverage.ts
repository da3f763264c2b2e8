import { BertError } from '../errors.ts';
import type { StateMatch } from './keys.ts';

/**
 * Most of a model that may be missing from its checkpoint, as a fraction of its parameters. A fresh
 * head (a classifier on a pre-trained encoder: well under 1%) is HF's warning; a checkpoint that
 * covers a small part of what config.json describes (a 2-layer checkpoint beside a 200-layer config)
 * would give a model of random layers, and a build the size of the config: that is refused.
 */
export const MAX_MISSING_FRACTION = 0.5;

/**
 * Throws a one-line BertError at `source` when the weights `match` found missing hold more than
 * MAX_MISSING_FRACTION of the parameters of `expected` (name -> shape). Counts elements, not
 * tensors, so a missing LayerNorm bias weighs what it holds.
 */
export function checkWeightCoverage(expected: ReadonlyMap<string, readonly number[]>, match: StateMatch, source: string): void {
  const size = (name: string): number => (expected.get(name) ?? []).reduce((a, b) => a * b, 1);
  let total = 0;
  for (const name of expected.keys()) total += size(name);
  let missing = 0;
  for (const name of match.missing) missing += size(name);
  if (total === 0 || missing <= MAX_MISSING_FRACTION * total) return;
  const held = (100 * (total - missing)) / total;
  throw new BertError(
    `checkpoint holds ${held.toFixed(1)}% of the ${total} parameters the config describes (${match.missing.length} tensors missing, ` +
      `first ${match.missing[0]}); refusing to initialise most of the model at random (at most ${100 * MAX_MISSING_FRACTION}% may be missing): ` +
      'is config.json the one that came with these weights?',
    source,
  );
}
