// The compute engine: one training step (forward + backward, no optimizer) of a BERT encoder stack at
// batch 32 x seq 128, against a plain ORT MatMul ceiling measured in the same run.
import { cpus } from 'node:os';
import { gradients } from '../src/graph/autodiff.ts';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { initParams } from '../src/model/init.ts';
import { CompiledGraph, type HostTensor } from '../src/runtime/session.ts';
import { TrainStep } from '../src/train/step.ts';

const B = 32;
const S = 128;

const rssMB = () => process.memoryUsage().rss / 2 ** 20;
let peakRss = 0;
const sample = setInterval(() => (peakRss = Math.max(peakRss, rssMB())), 20);

async function timeIt(fn: () => Promise<unknown>, minRuns: number, minSeconds: number): Promise<number> {
  await fn(); // warm-up: ORT allocates and plans on the first run
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start) / 1000 < minSeconds) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!; // median
}

/** GFLOP/s of a plain (2048 x 768) @ (768 x 3072) MatMul: what MLAS reaches on this machine now. */
export async function matmulCeiling(): Promise<number> {
  const g = new Graph();
  const a = g.input('a', 'float32', [2048, 768]);
  const b = g.input('b', 'float32', [768, 3072]);
  const mm = await CompiledGraph.compile({ y: op.matmul(a, b) });
  const feeds = {
    a: { dtype: 'float32', shape: [2048, 768], data: new Float32Array(2048 * 768).fill(0.5) },
    b: { dtype: 'float32', shape: [768, 3072], data: new Float32Array(768 * 3072).fill(0.25) },
  } satisfies Record<string, HostTensor>;
  const t = await timeIt(() => mm.run(feeds), 10, 2);
  await mm.dispose();
  return (2 * 2048 * 768 * 3072) / t / 1e9;
}

/** Model FLOPs of one encoder-stack forward: dense layers plus the two attention matmuls. */
export function encoderForwardFlops(L: number, H: number, I: number, batch: number, seq: number): number {
  const n = batch * seq;
  return L * (2 * n * (4 * H * H + 2 * H * I) + 4 * batch * seq * seq * H);
}

function batchFeeds(vocab: number): Record<string, HostTensor> {
  const ids = new BigInt64Array(B * S);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt((i * 7919) % vocab);
  const types = new BigInt64Array(B * S).map((_, i) => (i % S < S / 2 ? 0n : 1n));
  const mask = new BigInt64Array(B * S).fill(1n);
  return {
    input_ids: { dtype: 'int64', shape: [B, S], data: ids },
    token_type_ids: { dtype: 'int64', shape: [B, S], data: types },
    attention_mask: { dtype: 'int64', shape: [B, S], data: mask },
  };
}

async function trainingStep(preset: PresetName, ceiling: number) {
  const config = makeConfig(preset);
  const ctx = newContext(config, { training: true });
  const out = bertModel(ctx, bertInputs(ctx));
  const loss = op.reduceMean(op.mul(out.last_hidden_state, out.last_hidden_state), [0, 1], false);
  const t0 = performance.now();
  const step = await TrainStep.compile({ ctx, loss, outputs: {} }, { seed: 1 });
  const sessionSeconds = (performance.now() - t0) / 1000;
  const params = initParams(new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]])), config, 1);
  const feeds = batchFeeds(config.vocab_size);
  let stepNo = 0;
  const seconds = await timeIt(() => step.run(feeds, params, stepNo++), 2, preset === 'base' ? 1 : 5);
  const flops = 3 * encoderForwardFlops(config.num_hidden_layers, config.hidden_size, config.intermediate_size, B, S);
  const gflops = flops / seconds / 1e9;
  await step.dispose();
  return {
    shape: `L${config.num_hidden_layers}/H${config.hidden_size}/A${config.num_attention_heads}/I${config.intermediate_size}`,
    batch: B,
    seq: S,
    step_seconds: +seconds.toFixed(3),
    tokens_per_second: Math.round((B * S) / seconds),
    achieved_gflops: +gflops.toFixed(1),
    ratio_to_matmul_ceiling: +(gflops / ceiling).toFixed(3),
    session_create_seconds: +sessionSeconds.toFixed(2),
    peak_rss_mb: Math.round(peakRss),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const ceiling = await matmulCeiling();
  const result: Record<string, unknown> = { threads: cpus().length, matmul_ceiling_gflops: +ceiling.toFixed(1) };
  for (const preset of ['mini', 'base'] as const) {
    peakRss = rssMB();
    result[`train_step_${preset}`] = await trainingStep(preset, ceiling);
  }
  clearInterval(sample);
  return result;
}
