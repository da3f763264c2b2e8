// Where one pre-training step's time goes, in a process of its own: ORT's profiler per op type, and
// the host-side phases of the loop (batch read-ahead, feeds, dropout masks, the graph run, clipping,
// AdamW) timed around the same calls `bert pretrain` makes, the GEMMs by shape against a plain MatMul,
// and the other kernels' tensor bytes against ORT's own Add, both measured in the same process before
// and after. Prints one JSON line.
// Usage: node --import tsx bench/profile-child.ts PRESET BATCH SEQ STEPS [MICRO_BATCHES]
// (MICRO_BATCHES > 1: that many batches of BATCH a step, run and summed in one graph run)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochOrder, openPretrainingData } from '../src/data/dataset.ts';
import { prefetchBatches } from '../src/data/prefetch.ts';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { bindShape, resolveShape } from '../src/graph/shape.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { CompiledGraph, hostTensor } from '../src/runtime/session.ts';
import { DropoutMasks } from '../src/train/dropout.ts';
import { preTrainingFeeds, preTrainingObjective } from '../src/train/objectives.ts';
import { AdamW, clipScale } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';
import { matmulCeiling } from './engine.bench.ts';
import { writeSyntheticJsonl } from './pretrain-data.ts';

const GEMM_OPS = new Set(['Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul']);
// ops that ORT runs as a view of their input or on shapes alone: no tensor traffic to count
const VIEW_OPS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Flatten', 'Shape', 'Size']);
// ops that read only the elements they output from their first input
const GATHER_OPS = new Set(['Gather', 'GatherElements', 'GatherND', 'Slice']);
const BYTES: Record<string, number> = { float: 4, double: 8, int64_t: 8, int32_t: 4, bool: 1, int8_t: 1, uint8_t: 1 };
const [preset = 'mini', b = '32', s = '128', n = '4', k = '1'] = process.argv.slice(2);
const [B, S, steps, K] = [Number(b), Number(s), Number(n), Number(k)];
const P = 20;
const config = makeConfig(preset as PresetName);

// Add's GB/s at three sizes (elements): (4096, 256) like most of mini's activations, (4096, 1024), and
// large like the MLM logits (640, 30522); the higher of before and after, as for the MatMul
const addTiers = [1 << 20, 1 << 22, 1 << 24];
const addCeilings = async () => {
  const gbps: number[] = [];
  for (const n of addTiers) gbps.push(await addCeiling(n));
  return gbps;
};
const ceilingBefore = await matmulCeiling();
const addBefore = await addCeilings();
const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
const data = join(dir, 'data.jsonl');
writeSyntheticJsonl(data, B * K * (steps + 2), S, P);
const dataset = openPretrainingData(data);
const batches = prefetchBatches(dataset, epochOrder(dataset.size, 1, 0, false), B, 4, { dropLast: true });

const objective = preTrainingObjective(config, { training: true });
const prefix = join(dir, 'ort');
const step = await TrainStep.compile(objective, { seed: 1, profilePrefix: prefix, microBatches: K });
const params = initParams(bertParameterShapes(config, 'pretraining'), config, 1);
const optimizer = new AdamW(params, { weightDecay: 0.01, eps: 1e-6 });

// The dropout masks alone, as TrainStep makes them inside `run` (same sites, same shapes).
const bindings = new Map<string, number>();
const ids = objective.ctx.graph.inputs.find((v) => v.name === 'input_ids')!;
bindShape(ids.shape, [B, S], bindings);
const sites = objective.ctx.dropouts;
const siteShapes = sites.map((site) => resolveShape(site.mask.shape, bindings));
const masks = new DropoutMasks(sites, 1);

// dropout_masks: what making one step's masks costs, timed apart (TrainStep.run makes them again, inside
// graph_run: the whole TrainStep.run).
const phases = { data_wait: 0, feeds: 0, dropout_masks: 0, graph_run: 0, grad_norm: 0, adamw_with_clipping: 0 };
let wall = 0;
for (let k = 0; k <= steps; k++) {
  const t0 = performance.now();
  const items = [];
  for (let m = 0; m < K; m++) items.push((await batches.next()).value!);
  const t1 = performance.now();
  const feeds = items.map((item) => preTrainingFeeds(item.batch));
  const t2 = performance.now();
  const r = await step.runMicroBatches(feeds, params, k * K);
  const t3 = performance.now();
  // as applyUpdate does it: the norm, then AdamW with the clipping factor folded in
  const norm = optimizer.gradNorm(r.grads.values());
  const t4 = performance.now();
  optimizer.step(r.grads, 1e-4, clipScale(norm, 1));
  const t5 = performance.now();
  const tm = performance.now();
  for (let m = 0; m < K; m++) masks.forStep(k * K + m, siteShapes);
  const maskMs = performance.now() - tm;
  if (k === 0) continue; // the first step plans and allocates
  phases.data_wait += t1 - t0;
  phases.feeds += t2 - t1;
  phases.dropout_masks += maskMs;
  phases.graph_run += t3 - t2;
  phases.grad_norm += t4 - t3;
  phases.adamw_with_clipping += t5 - t4;
  wall += t5 - t0;
}
await batches.return(undefined);
step.endProfiling();
await step.dispose();
dataset.close();

// ORT's trace: per-node kernel times by op type, and each run's total (the first run is left out).
const { runs, kernels } = readTrace(dir);
rmSync(dir, { recursive: true, force: true });
const ceilingAfter = await matmulCeiling();
const addAfter = await addCeilings();
const addGbps = addBefore.map((g, i) => Math.max(g, addAfter[i]!));
const byOp = new Map<string, number>();
const byTraffic = new Map<string, { us: number; bytes: number; usAtAdd: number }>();
/** A node's tensor bytes in and out, and how long Add would take for them at its GB/s for the largest. */
function countTraffic(op: string, us: number, inputs: Shapes, outputs: Shapes): void {
  const tensors = GATHER_OPS.has(op) ? [...inputs.slice(1), ...outputs, ...outputs] : [...inputs, ...outputs];
  let bytes = 0;
  let largest = 0;
  for (const t of tensors) {
    const [type, shape] = Object.entries(t)[0] ?? ['float', []];
    const n = shape.reduce((p, d) => p * d, 1);
    bytes += n * (BYTES[type] ?? 4);
    largest = Math.max(largest, n);
  }
  const tier = addTiers.findIndex((n) => largest <= 1.5 * n);
  const gbps = addGbps[tier === -1 ? addTiers.length - 1 : tier]!;
  const t = byTraffic.get(op) ?? { us: 0, bytes: 0, usAtAdd: 0 };
  t.us += us;
  t.bytes += bytes;
  t.usAtAdd += bytes / gbps / 1e3;
  byTraffic.set(op, t);
}
const byGemm = new Map<string, { op: string; a: number[]; b: number[]; y: number[]; nodes: number; us: number; flop: number }>();
for (const e of kernels) {
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  if (!GEMM_OPS.has(op)) {
    if (!VIEW_OPS.has(op)) countTraffic(op, e.dur, e.args?.input_type_shape ?? [], e.args?.output_type_shape ?? []);
    continue;
  }
  const [a, b] = (e.args?.input_type_shape ?? []).map((t) => Object.values(t)[0]!);
  const y = Object.values(e.args?.output_type_shape?.[0] ?? {})[0];
  if (!a || !b || !y) continue;
  const key = `${op} ${a.join('x')} ${b.join('x')}`;
  const g = byGemm.get(key) ?? { op, a, b, y, nodes: 0, us: 0, flop: 0 };
  g.nodes++;
  g.us += e.dur;
  g.flop += gemmFlop(a, y);
  byGemm.set(key, g);
}
const ortRunMs = runs.slice(1).reduce((a, e) => a + e.dur, 0) / 1000;
const kernelMs = [...byOp.values()].reduce((a, x) => a + x, 0) / 1000;
const perStep = (ms: number) => +(ms / steps).toFixed(1);
const gemms = [...byGemm.values()].sort((x, y) => y.us - x.us);
const gemmMs = gemms.reduce((t, g) => t + g.us, 0) / 1000;
const gemmGflop = gemms.reduce((t, g) => t + g.flop, 0) / 1e9;
const gemmRate = (gemmGflop / gemmMs) * 1000;
const ceiling = Math.max(ceilingBefore, ceilingAfter);
console.log(JSON.stringify({
  preset, batch: B, seq: S, steps, micro_batches: K,
  step_ms: perStep(wall),
  host_phases_ms: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, perStep(v)])),
  ort_run_ms: perStep(ortRunMs),
  // TrainStep.run's time outside ORT's own run: the dropout masks, and onnxruntime-node (1.30) copying
  // every output, the gradients too, into freshly allocated ArrayBuffers after the run
  outside_ort_run_ms: perStep(phases.graph_run - ortRunMs),
  ort_kernel_ms: perStep(kernelMs),
  op_types_ms: Object.fromEntries([...byOp].sort((x, y) => y[1] - x[1]).map(([k, us]) => [k, perStep(us / 1000)])),
  // The step's GEMMs against a plain MatMul measured in this process (the higher of before and after).
  // Their FLOPs are the step's training FLOPs, so a loop at 0.75 of the ceiling must fit its whole step
  // in gemm_gflop / (0.75 x ceiling): what is left of that after the GEMMs is the budget for the rest.
  matmul_ceiling_gflops: [+ceilingBefore.toFixed(1), +ceilingAfter.toFixed(1)],
  gemm_ms: perStep(gemmMs),
  gemm_gflop: +(gemmGflop / steps).toFixed(2),
  gemm_gflops: +gemmRate.toFixed(1),
  gemm_ratio_to_matmul_ceiling: +(gemmRate / ceiling).toFixed(3),
  step_ms_at_075_of_ceiling: perStep(gemmGflop / (0.75 * ceiling) * 1e3),
  // Every other kernel's tensor bytes (inputs + outputs; views and shape ops left out), against Add's
  // GB/s at the same size measured in this process: how far ORT's unfused kernels are from the traffic
  // their passes must move, and what is left when every one of them ran at that speed.
  add_ceiling_gbps: Object.fromEntries(addTiers.map((n, i) => [n, +addGbps[i]!.toFixed(1)])),
  other_kernels: trafficSummary(),
  gemm_shapes: gemms.map((g) => ({
    op: g.op, a: g.a.join('x'), b: g.b.join('x'), y: g.y.join('x'), nodes: g.nodes / steps,
    ms: perStep(g.us / 1000), gflops: +(g.flop / g.us / 1e3).toFixed(1),
  })),
}));

function trafficSummary() {
  const all = [...byTraffic.values()].reduce((a, t) => ({ us: a.us + t.us, bytes: a.bytes + t.bytes, usAtAdd: a.usAtAdd + t.usAtAdd }), { us: 0, bytes: 0, usAtAdd: 0 });
  const row = (t: { us: number; bytes: number; usAtAdd: number }) => ({
    ms: perStep(t.us / 1000), gb: +(t.bytes / steps / 1e9).toFixed(3), gbps: +(t.bytes / t.us / 1e3).toFixed(1), ms_at_add_gbps: perStep(t.usAtAdd / 1000),
  });
  return {
    ...row(all),
    by_op: Object.fromEntries([...byTraffic].sort((x, y) => y[1].us - x[1].us).map(([op, t]) => [op, row(t)])),
  };
}

type Shapes = Array<Record<string, number[]>>;
interface TraceEvent {
  cat: string; name: string; ts: number; dur: number; args?: { op_name?: string; input_type_shape?: Shapes; output_type_shape?: Shapes };
}

/** The trace ORT wrote in `dir`: its runs in order, and the kernels after the first run (which plans and allocates). */
function readTrace(dir: string): { runs: TraceEvent[]; kernels: TraceEvent[] } {
  const file = readdirSync(dir).find((f) => f.startsWith('ort'))!;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((x, y) => x.ts - y.ts);
  const firstEnd = runs[0] ? runs[0].ts + runs[0].dur : 0;
  return { runs, kernels: events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= firstEnd) };
}

/**
 * GB/s of ORT's float32 Add over n elements (read 2n, write n): what its elementwise kernels reach now, in
 * cache for small n and from memory for large. The median kernel time of a chain of Adds in ORT's trace,
 * as the step's kernels are timed.
 */
async function addCeiling(n: number): Promise<number> {
  const g = new Graph();
  const a = g.input('a', 'float32', [n]);
  const b = g.input('b', 'float32', [n]);
  let y = a;
  for (let i = 0; i < 16; i++) y = op.add(y, b);
  const traceDir = mkdtempSync(join(tmpdir(), 'bench-add-'));
  const chain = await CompiledGraph.compile({ y }, { profilePrefix: join(traceDir, 'ort') });
  const feeds = { a: hostTensor('float32', [n], new Float32Array(n).fill(0.5)), b: hostTensor('float32', [n], new Float32Array(n).fill(0.25)) };
  for (let i = 0; i < 9; i++) await chain.run(feeds);
  chain.endProfiling();
  await chain.dispose();
  const us = readTrace(traceDir).kernels.filter((e) => e.args?.op_name === 'Add').map((e) => e.dur).sort((x, z) => x - z);
  rmSync(traceDir, { recursive: true, force: true });
  return (3 * 4 * n) / us[us.length >> 1]! / 1e3;
}

/**
 * FLOPs of one matrix product from its first operand and output shapes: 2 M N K per output matrix.
 * K is the operand's last two dims over M, whichever of them is transposed (Gemm's transA, FusedMatMul's).
 */
function gemmFlop(a: readonly number[], y: readonly number[]): number {
  const [m, n] = [y.at(-2)!, y.at(-1)!];
  const matrices = y.slice(0, -2).reduce((p, d) => p * d, 1);
  const k = (a.at(-2)! * a.at(-1)!) / m;
  return 2 * matrices * m * n * k;
}
