// One preset's training-step measurement, in a process of its own so its peak RSS is its own.
// Prints one JSON line. Used by engine.bench.ts: node --import tsx bench/train-step-child.ts PRESET BATCH SEQ
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import type { PresetName } from '../src/model/config.ts';
import { CompiledGraph } from '../src/runtime/session.ts';
import { matmulCeiling } from './engine.bench.ts';
import { encoderStep, syntheticBatch } from './encoder-step.ts';
import { peakRssMb } from './peak-rss.ts';

const [preset = 'mini', b = '32', s = '128'] = process.argv.slice(2);
const B = Number(b);
const S = Number(s);

// The MatMul ceiling right before this preset's steps (the machine is shared; see engine.bench.ts).
const ceilingBefore = await matmulCeiling();
const { config, step, params, sessionSeconds } = await encoderStep(preset as PresetName);
const shapes = new Map([...params].map(([k, p]) => [k, p.shape]));
const feeds = syntheticBatch(config.vocab_size, B, S);
const times: number[] = [];
const minRuns = preset === 'mini' ? 5 : 2;
for (let i = 0; i < minRuns + 1; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  if (i > 0) times.push((performance.now() - t) / 1000); // the first run plans and allocates
}
await step.dispose();
// the step's peak RSS, before the copy graph below adds its own buffers
const vmHwmMb = peakRssMb();

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
    vm_hwm_mb: vmHwmMb,
  }),
);
