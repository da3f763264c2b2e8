// Synthetic pre-training data for the benchmarks, in BERT's JSONL interchange format: full-length
// sentence pairs with P masked positions each.
import { writeFileSync } from 'node:fs';

/** Writes `examples` examples of `S` tokens with `P` masked positions to `path`. */
export function writeSyntheticJsonl(path: string, examples: number, S: number, P: number): void {
  const lines: string[] = [];
  for (let e = 0; e < examples; e++) {
    const ids = Array.from({ length: S }, (_, i) => (i === 0 ? 101 : i === S / 2 || i === S - 1 ? 102 : 1000 + ((e * 7919 + i * 31) % 20000)));
    const positions = Array.from({ length: P }, (_, k) => 1 + k * Math.floor((S - 2) / P));
    lines.push(JSON.stringify({
      input_ids: ids, input_mask: ids.map(() => 1), segment_ids: ids.map((_, i) => (i > S / 2 ? 1 : 0)),
      masked_lm_positions: positions, masked_lm_ids: positions.map((p) => ids[p]), masked_lm_weights: positions.map(() => 1),
      next_sentence_labels: [e % 2],
    }));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}
