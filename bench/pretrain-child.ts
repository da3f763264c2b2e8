// One pre-training measurement (the whole loop: data read-ahead, forward + backward, accumulation,
// clipping, AdamW) in a process of its own. Prints one JSON line.
// Usage: node --import tsx bench/pretrain-child.ts PRESET BATCH SEQ GRAD_ACCUM STEPS
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { pretrain } from '../src/train/pretrain.ts';
import { matmulCeiling } from './engine.bench.ts';
import { peakRssMb } from './peak-rss.ts';

const [preset = 'mini', b = '32', s = '128', accum = '1', n = '4'] = process.argv.slice(2);
const [B, S, gradAccum, steps] = [Number(b), Number(s), Number(accum), Number(n)];
const P = 20;
const config = makeConfig(preset as PresetName);

// Synthetic examples in BERT's JSONL interchange format: full-length pairs, 20 masked positions.
const dir = mkdtempSync(join(tmpdir(), 'bench-pretrain-'));
const data = join(dir, 'data.jsonl');
const lines: string[] = [];
for (let e = 0; e < B * (steps + 1); e++) {
  const ids = Array.from({ length: S }, (_, i) => (i === 0 ? 101 : i === S / 2 || i === S - 1 ? 102 : 1000 + ((e * 7919 + i * 31) % 20000)));
  const positions = Array.from({ length: P }, (_, k) => 1 + k * Math.floor((S - 2) / P));
  lines.push(JSON.stringify({
    input_ids: ids, input_mask: ids.map(() => 1), segment_ids: ids.map((_, i) => (i > S / 2 ? 1 : 0)),
    masked_lm_positions: positions, masked_lm_ids: positions.map((p) => ids[p]), masked_lm_weights: positions.map(() => 1),
    next_sentence_labels: [e % 2],
  }));
}
writeFileSync(data, `${lines.join('\n')}\n`);

const ceilingBefore = await matmulCeiling();
const result = await pretrain({
  data, config, out: join(dir, 'out'), batchSize: B, lr: 1e-4, warmupSteps: 1, steps, weightDecay: 0.01, maxGradNorm: 1,
  gradAccum, seed: 1, shuffle: false, saveEvery: 0, keepLast: 1, resume: false,
});
const ceilingAfter = await matmulCeiling();
const vmHwmMb = peakRssMb();
rmSync(dir, { recursive: true, force: true });
// the first step plans and allocates; the rest are the steady state
const rates = result.history.slice(1).map((h) => h.tokens_per_second).sort((x, y) => x - y);
console.log(JSON.stringify({
  tokens_per_second: rates[Math.floor(rates.length / 2)],
  matmul_ceiling_gflops: [ceilingBefore, ceilingAfter],
  peak_rss_mb: vmHwmMb,
}));
