// Central finite differences against our gradient rules, run through ONNX Runtime in float64.
import assert from 'node:assert/strict';
import { gradients } from '../../src/graph/autodiff.ts';
import { Graph, type DType, type Value } from '../../src/graph/graph.ts';
import { mul, reduceSum } from '../../src/graph/ops.ts';
import { CompiledGraph, type HostTensor } from '../../src/runtime/session.ts';

/** Deterministic uniform(-1, 1) numbers (mulberry32). */
export function randn(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export interface GradCase {
  /** Differentiable inputs: name -> concrete shape (declared with `declared` shapes if given). */
  inputs: Record<string, number[]>;
  declared?: Record<string, Array<number | string>>;
  /** Extra non-differentiable feeds (int64 indices, bool masks). */
  extra?: Record<string, HostTensor>;
  /** Builds the output(s) from the graph inputs (diff inputs first, then extra, by name). */
  build: (v: Record<string, Value>, g: Graph) => Value;
  dtype?: DType;
  /** Value scale of the random inputs (e.g. positive for Log/Sqrt: use `positive`). */
  positive?: boolean;
  seed?: number;
  h?: number;
}

/**
 * Returns the max relative error, over all inputs, between the autodiff gradient and central
 * differences of loss = sum(y * r) for a fixed random r (so every output element matters differently).
 */
export async function gradCheck(c: GradCase): Promise<number> {
  const dtype = c.dtype ?? 'float64';
  const g = new Graph();
  const vals: Record<string, Value> = {};
  for (const [name, shape] of Object.entries(c.inputs)) vals[name] = g.input(name, dtype, c.declared?.[name] ?? shape, 'param');
  for (const [name, t] of Object.entries(c.extra ?? {})) vals[name] = g.input(name, t.dtype, t.shape);
  const y = c.build(vals, g);
  const n = y.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  const rIn = g.input('r', y.dtype, y.shape);
  const loss = y.rank === 0 ? y : reduceSum(mul(y, rIn), [...Array(y.rank).keys()], false);
  const wrt = Object.keys(c.inputs).map((k) => vals[k]!);
  const grads = gradients(loss, wrt);
  const outputs: Record<string, Value> = { loss };
  grads.forEach((gr, i) => (outputs[`grad_${i}`] = gr));
  const compiled = await CompiledGraph.compile(outputs, { threads: 1 });
  const lossOnly = await CompiledGraph.compile({ loss }, { threads: 1 });

  const Typed = dtype === 'float64' ? Float64Array : Float32Array;
  const feeds: Record<string, HostTensor> = { ...(c.extra ?? {}) };
  let seed = c.seed ?? 1;
  for (const [name, shape] of Object.entries(c.inputs)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Typed(randn(count, seed++).map((x) => (c.positive ? 0.5 + Math.abs(x) : x)));
    feeds[name] = { dtype, shape, data };
  }
  // r's concrete shape: y's shape with symbolic dims resolved by a first run
  const probeGraph = await CompiledGraph.compile({ y }, { threads: 1 });
  const probe = await probeGraph.run(Object.fromEntries(probeGraph.inputs.map((v) => [v.name, feeds[v.name]!])));
  const yShape = probe.y!.shape;
  if (y.rank !== 0) feeds.r = { dtype: y.dtype, shape: yShape, data: new Typed(randn(yShape.reduce((a, b) => a * b, 1) || n, 999)) };

  const used = (cg: CompiledGraph) => Object.fromEntries(cg.inputs.map((v) => [v.name, feeds[v.name]!]));
  const analytic = await compiled.run(used(compiled));
  const h = c.h ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  let worst = 0;
  for (const [k, name] of Object.keys(c.inputs).entries()) {
    const x = feeds[name]!.data as Float64Array;
    const ga = analytic[`grad_${k}`]!.data as Float64Array;
    assert.equal(ga.length, x.length, `gradient of ${name} has ${ga.length} elements, input has ${x.length}`);
    const fd = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]!;
      x[i] = x0 + h;
      const lp = Number((await lossOnly.run(used(lossOnly))).loss!.data[0]);
      x[i] = x0 - h;
      const lm = Number((await lossOnly.run(used(lossOnly))).loss!.data[0]);
      x[i] = x0;
      fd[i] = (lp - lm) / (2 * h);
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < x.length; i++) {
      num = Math.max(num, Math.abs(ga[i]! - fd[i]!));
      den = Math.max(den, Math.abs(fd[i]!), Math.abs(ga[i]!));
    }
    worst = Math.max(worst, den === 0 ? num : num / den);
  }
  return worst;
}

