// One preset's training-step measurement, in a process of its own so its peak RSS is its own.
// Prints one JSON line. Used by engine.bench.ts: node --import tsx bench/train-step-child.ts PRESET BATCH SEQ
import { readFileSync } from 'node:fs';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { CompiledGraph, type HostTensor } from '../src/runtime/session.ts';
import { TrainStep } from '../src/train/step.ts';
import { matmulCeiling } from './engine.bench.ts';

const [preset = 'mini', b = '32', s = '128'] = process.argv.slice(2);
const B = Number(b);
const S = Number(s);
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);

// The MatMul ceiling right before this preset's steps (the machine is shared; see engine.bench.ts).
const ceilingBefore = await matmulCeiling();
const config = makeConfig(preset as PresetName);
const ctx = newContext(config, { training: true });
const out = bertModel(ctx, bertInputs(ctx));
const loss = op.reduceMean(op.mul(out.last_hidden_state, out.last_hidden_state), [0, 1], false);
const t0 = performance.now();
const step = await TrainStep.compile({ ctx, loss, outputs: {} }, { seed: 1 });
const sessionSeconds = (performance.now() - t0) / 1000;
const shapes = new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]]));
const params = initParams(shapes, config, 1);
const feeds: Record<string, HostTensor> = {
  input_ids: { dtype: 'int64', shape: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 7919) % config.vocab_size)) },
  token_type_ids: { dtype: 'int64', shape: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => (i % S < S / 2 ? 0n : 1n)) },
  attention_mask: { dtype: 'int64', shape: [B, S], data: new BigInt64Array(B * S).fill(1n) },
};
const times: number[] = [];
const minRuns = preset === 'mini' ? 5 : 2;
for (let i = 0; i < minRuns + 1; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  if (i > 0) times.push((performance.now() - t) / 1000); // the first run plans and allocates
}
await step.dispose();
const stepPeak = peak;
const vmHwmMb = Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024);

// What moving every parameter in and every gradient out costs per step: a graph that only copies
// each fed parameter into a preallocated output buffer (an upper bound: ORT's Identity is a memcpy).
const g = new Graph();
const outputs = Object.fromEntries([...shapes].map(([k, sh]) => [`grad:${k}`, op.identity(g.param(k, sh))]));
const copy = await CompiledGraph.compile(outputs);
const into = Object.fromEntries([...shapes].map(([k, sh]) => [`grad:${k}`, { dtype: 'float32' as const, shape: sh, data: new Float32Array(params.get(k)!.data.length) }]));
const pfeeds = Object.fromEntries([...params].map(([k, p]) => [k, { dtype: 'float32' as const, shape: p.shape, data: p.data }]));
await copy.run(pfeeds, into);
const tc = performance.now();
for (let i = 0; i < 3; i++) await copy.run(pfeeds, into);
const transferSeconds = (performance.now() - tc) / 3000;
await copy.dispose();
const ceilingAfter = await matmulCeiling();
clearInterval(sampler);

times.sort((x, y) => x - y);
const paramCount = [...shapes.values()].reduce((a, sh) => a + sh.reduce((x, y) => x * y, 1), 0);
console.log(
  JSON.stringify({
    shape: `L${config.num_hidden_layers}/H${config.hidden_size}/A${config.num_attention_heads}/I${config.intermediate_size}`,
    params: paramCount,
    batch: B,
    seq: S,
    step_seconds: times[Math.floor(times.length / 2)],
    matmul_ceiling_gflops: [ceilingBefore, ceilingAfter],
    session_create_seconds: sessionSeconds,
    param_in_grad_out_seconds: transferSeconds,
    peak_rss_mb: Math.round(stepPeak / 2 ** 20),
    // the kernel's high-water mark: ORT runs block the sampling timer, so sampling alone misses peaks inside a run
    vm_hwm_mb: vmHwmMb,
  }),
);
