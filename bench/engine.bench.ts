// The compute engine: one training step (forward + backward, no optimizer) of a BERT encoder stack at
// batch 32 x seq 128, against a plain ORT MatMul ceiling measured in the same process right before
// and after (the machine is shared and noisy, so only same-moment ratios mean anything).
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { CompiledGraph, type HostTensor } from '../src/runtime/session.ts';
import { runChild } from './child.ts';

const B = 32;
const S = 128;

const here = dirname(fileURLToPath(import.meta.url));

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

/** Runs bench/train-step-child.ts for one preset in its own process (so its peak RSS is its own). */
function trainingStep(preset: PresetName): Record<string, unknown> {
  const r = runChild<{
    step_seconds: number; session_create_seconds: number; param_in_grad_out_seconds: number; vm_hwm_mb: number; shape: string; params: number;
    matmul_ceiling_gflops: [number, number];
  }>(join(here, 'train-step-child.ts'), [preset, String(B), String(S)]);
  // The ceiling measured in the child right before and after its steps. Noise on a shared machine only
  // ever lowers a measurement, so the higher of the two is the ceiling (and the ratio is conservative).
  const local = Math.max(...r.matmul_ceiling_gflops);
  const config = makeConfig(preset);
  const flops = 3 * encoderForwardFlops(config.num_hidden_layers, config.hidden_size, config.intermediate_size, B, S);
  const gflops = flops / r.step_seconds / 1e9;
  return {
    shape: r.shape,
    params: r.params,
    batch: B,
    seq: S,
    step_seconds: +r.step_seconds.toFixed(3),
    tokens_per_second: Math.round((B * S) / r.step_seconds),
    achieved_gflops: +gflops.toFixed(1),
    matmul_ceiling_gflops: r.matmul_ceiling_gflops.map((x) => +x.toFixed(1)),
    ratio_to_matmul_ceiling: +(gflops / local).toFixed(3),
    session_create_seconds: +r.session_create_seconds.toFixed(2),
    param_in_grad_out_seconds: +r.param_in_grad_out_seconds.toFixed(3),
    peak_rss_mb: r.vm_hwm_mb,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { threads: cpus().length };
  for (const preset of ['mini', 'base'] as const) result[`train_step_${preset}`] = trainingStep(preset);
  return result;
}
