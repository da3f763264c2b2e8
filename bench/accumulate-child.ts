// Micro-batch accumulation on the host against in the graph (train/micro-batch-graph.ts), in one
// process: both training steps compiled side by side and run alternately on the same micro-batches, so
// the machine's drift hits both alike. A round is forward + backward of every micro-batch and their
// mean gradient (no optimizer: it is the same for both). Prints one JSON line.
// Usage: node --import tsx bench/accumulate-child.ts PRESET MICRO_BATCH SEQ MICRO_BATCHES ROUNDS
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { openPretrainingData } from '../src/data/dataset.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { preTrainingFeeds, preTrainingObjective } from '../src/train/objectives.ts';
import { GradAccumulator } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';
import { writeSyntheticJsonl } from './pretrain-data.ts';

const [preset = 'base', b = '8', s = '128', k = '4', n = '6'] = process.argv.slice(2);
const [B, S, K, rounds] = [Number(b), Number(s), Number(k), Number(n)];
const config = makeConfig(preset as PresetName);

const dir = mkdtempSync(join(tmpdir(), 'bench-accumulate-'));
writeSyntheticJsonl(join(dir, 'data.jsonl'), B * K, S, 20);
const dataset = openPretrainingData(join(dir, 'data.jsonl'));
const batches = Array.from({ length: K }, (_, m) => preTrainingFeeds(dataset.batch(Array.from({ length: B }, (_, i) => m * B + i))));
dataset.close();
rmSync(dir, { recursive: true, force: true });
const params = initParams(bertParameterShapes(config, 'pretraining'), config, 1);

const timed = async <T>(fn: () => Promise<T>): Promise<number> => {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
};
const compileS: Record<string, number> = {};
let host: TrainStep | undefined;
let graph: TrainStep | undefined;
compileS.host = await timed(async () => (host = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 1 })));
compileS.graph = await timed(async () => (graph = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 1, microBatches: K })));
const sums = new GradAccumulator(params);

const times = { host: [] as number[], graph: [] as number[] };
for (let r = 0; r <= rounds; r++) {
  const h = await timed(async () => {
    for (let m = 0; m < K; m++) sums.add((await host!.run(batches[m]!, params, r * K + m)).grads);
    sums.average();
  });
  const g = await timed(() => graph!.runMicroBatches(batches, params, r * K));
  // the first round plans and allocates
  if (r > 0) {
    times.host.push(h);
    times.graph.push(g);
  }
}
await host!.dispose();
await graph!.dispose();
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const round3 = (x: number) => +x.toFixed(3);
console.log(JSON.stringify({
  preset, micro_batch: B, seq: S, micro_batches: K,
  compile_s: { host: round3(compileS.host), graph: round3(compileS.graph) },
  round_s: { host: times.host.map(round3), graph: times.graph.map(round3) },
  tokens_per_second: { host: Math.round((B * K * S) / median(times.host)), graph: Math.round((B * K * S) / median(times.graph)) },
  // host time over graph time, round by round (> 1: the graph is faster), and of the medians
  graph_speedup_by_round: times.host.map((h, i) => round3(h / times.graph[i]!)),
  graph_speedup: round3(median(times.host) / median(times.graph)),
}));
