// Length buckets: requests sorted by token count and cut into batches, so each batch pads only to its
// own longest member. Results go back to the callers' order by index.
import type { HostTensor } from '../runtime/session.ts';
import type { Encoding } from '../tokenizer/types.ts';

export interface BatchLimits {
  /** Most sequences per batch. */
  maxBatch: number;
  /** Most (padded) tokens per batch: long inputs go in smaller batches. */
  maxTokens: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxBatch: 32, maxTokens: 32 * 128 };

/** Indices of `lengths` grouped into batches of similar length, shortest first. */
export function lengthBuckets(lengths: readonly number[], limits: BatchLimits = DEFAULT_LIMITS): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    // Sorted ascending, so the newest member is the longest: padded size = count * its length.
    if (current.length > 0 && (current.length >= limits.maxBatch || (current.length + 1) * lengths[i]! > limits.maxTokens)) {
      batches.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** input_ids / token_type_ids / attention_mask (B, S) for `encodings`, right-padded (ids with padId, the rest with 0) to the longest. */
export function batchFeeds(
  encodings: ReadonlyArray<Pick<Encoding, 'input_ids' | 'token_type_ids' | 'attention_mask'>>,
  padId: number,
): { feeds: Record<string, HostTensor>; seq: number } {
  const B = encodings.length;
  const S = Math.max(...encodings.map((e) => e.input_ids.length));
  const ids = new BigInt64Array(B * S).fill(BigInt(padId));
  const types = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  encodings.forEach((e, b) => {
    for (let s = 0; s < e.input_ids.length; s++) {
      ids[b * S + s] = BigInt(e.input_ids[s]!);
      types[b * S + s] = BigInt(e.token_type_ids[s]!);
      mask[b * S + s] = BigInt(e.attention_mask[s]!);
    }
  });
  const t = (data: BigInt64Array): HostTensor => ({ dtype: 'int64', shape: [B, S], data });
  return { feeds: { input_ids: t(ids), token_type_ids: t(types), attention_mask: t(mask) }, seq: S };
}
