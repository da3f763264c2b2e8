// One pre-training measurement (the whole loop: data read-ahead, forward + backward, accumulation,
// clipping, AdamW) in a process of its own, then the same graph's step alone (the engine) for the
// loop/engine ratio. Prints one JSON line.
// Usage: node --import tsx bench/pretrain-child.ts PRESET BATCH SEQ GRAD_ACCUM STEPS
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { openPretrainingData } from '../src/data/dataset.ts';
import { preTrainingFeeds, preTrainingObjective } from '../src/train/objectives.ts';
import { pretrain } from '../src/train/pretrain.ts';
import { TrainStep } from '../src/train/step.ts';
import { matmulCeiling } from './engine.bench.ts';
import { peakRssMb } from './peak-rss.ts';
import { writeSyntheticJsonl } from './pretrain-data.ts';

const [preset = 'mini', b = '32', s = '128', accum = '1', n = '4'] = process.argv.slice(2);
const [B, S, gradAccum, steps] = [Number(b), Number(s), Number(accum), Number(n)];
const P = 20;
const config = makeConfig(preset as PresetName);

const dir = mkdtempSync(join(tmpdir(), 'bench-pretrain-'));
const data = join(dir, 'data.jsonl');
writeSyntheticJsonl(data, B * (steps + 1), S, P);

const ceilingBefore = await matmulCeiling();
const result = await pretrain({
  data, config, out: join(dir, 'out'), batchSize: B, lr: 1e-4, warmupSteps: 1, steps, weightDecay: 0.01, maxGradNorm: 1,
  gradAccum, accumulate: 'graph', seed: 1, shuffle: false, saveEvery: 0, keepLast: 1, resume: false,
});
const vmHwmMb = peakRssMb();

// The engine alone on the same graph: forward + backward of one micro-batch, no optimizer, no data
// loop, dropout masks included (TrainStep makes them), repeated on one batch.
const dataset = openPretrainingData(data);
const feeds = preTrainingFeeds(dataset.batch(Array.from({ length: B / gradAccum }, (_, i) => i)));
dataset.close();
const step = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 1 });
const engineTimes: number[] = [];
for (let i = 0; i <= Math.max(2, steps - 1); i++) {
  const t = performance.now();
  await step.run(feeds, result.params, i);
  if (i > 0) engineTimes.push((performance.now() - t) / 1000); // the first run plans and allocates
}
await step.dispose();
engineTimes.sort((x, y) => x - y);
const ceilingAfter = await matmulCeiling();
rmSync(dir, { recursive: true, force: true });
// the first step plans and allocates; the rest are the steady state
const rates = result.history.slice(1).map((h) => h.tokens_per_second).sort((x, y) => x - y);
console.log(JSON.stringify({
  tokens_per_second: rates[Math.floor(rates.length / 2)],
  engine_tokens_per_second: (B / gradAccum) * S / engineTimes[Math.floor(engineTimes.length / 2)]!,
  matmul_ceiling_gflops: [ceilingBefore, ceilingAfter],
  peak_rss_mb: vmHwmMb,
}));
