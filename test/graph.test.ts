import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gradients } from '../src/graph/autodiff.ts';
import { Graph } from '../src/graph/graph.ts';
import { lowerGraph } from '../src/graph/lower.ts';
import * as op from '../src/graph/ops.ts';
import { dimDiv, dimMul, resolveShape } from '../src/graph/shape.ts';
import { CompiledGraph, hostTensor } from '../src/runtime/session.ts';

const f32 = (shape: number[], fill = 1) => ({ dtype: 'float32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });

describe('shapes are checked when a node is added, naming the op and the shapes', () => {
  test('broadcasting mismatch', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', ['batch', 3]);
    const b = g.input('b', 'float32', [4]);
    assert.throws(() => op.add(a, b), /Add: shapes do not broadcast \(a float32\[batch, 3\], b float32\[4\]\)/);
  });
  test('matmul inner dims, gemm bias, dtype mix, reshape count', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['n', 8]);
    const w = g.input('w', 'float32', [7, 4]);
    assert.throws(() => op.matmul(x, w), /MatMul: inner dims differ \(8 vs 7\)/);
    assert.throws(() => op.gemm(x, w, undefined, { transB: true }), /Gemm: inner dims differ/);
    const ids = g.input('ids', 'int64', ['n']);
    assert.throws(() => op.mul(x, ids as never), /Mul: inputs must have the same dtype/);
    assert.throws(() => op.reshape(x, [3, 5]), /Reshape/);
    assert.throws(() => op.softmax(ids), /Softmax: needs a floating-point input, got int64/);
  });
  test('symbolic dims multiply, divide and resolve', () => {
    assert.equal(dimMul('batch', 'seq'), 'batch*seq');
    assert.equal(dimDiv('batch*seq', 'seq'), 'batch');
    assert.equal(dimDiv(dimMul('batch*seq', 4), 2), '2*batch*seq');
    assert.deepEqual(resolveShape(['batch*seq', 768], new Map([['batch', 32], ['seq', 128]])), [4096, 768]);
  });
  test('a gradient through an op without a rule names the node', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3], 'param');
    const y = g.addNode('Sin', [x], [{ dtype: 'float32', shape: [3] }])[0]!;
    assert.throws(() => gradients(op.reduceSum(y, [0], false), [x]), /no gradient rule for Sin \(node Sin\)/);
  });
});

describe('bad feeds are rejected before ONNX Runtime is called', () => {
  test('unknown input, missing input, wrong dtype, wrong shape, inconsistent symbolic dim', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.param('w', [3, 2]);
    const m = g.input('m', 'float32', ['batch', 2]);
    const c = await CompiledGraph.compile({ y: op.add(op.matmul(x, w), m) });
    const ok = { x: f32([2, 3]), w: f32([3, 2]), m: f32([2, 2]) };
    assert.deepEqual([...(await c.run(ok)).y!.data], [4, 4, 4, 4]);
    await assert.rejects(c.run({ ...ok, z: f32([1]) }), /unknown input 'z'; this graph takes: x, w, m/);
    const { w: _w, ...noW } = ok;
    await assert.rejects(c.run(noW), /missing input 'w' \(float32\[3, 2\]\)/);
    await assert.rejects(c.run({ ...ok, w: { dtype: 'float64', shape: [3, 2], data: new Float64Array(6) } }), /input 'w' is float64, expected float32/);
    await assert.rejects(c.run({ ...ok, w: f32([2, 3]) }), /input 'w' has shape \[2, 3\]: dim 0 is 2, expected 3/);
    await assert.rejects(c.run({ ...ok, m: f32([5, 2]) }), /input 'm' has shape \[5, 2\]: dim 0 \('batch'\) is 5, but 'batch' is 2 elsewhere/);
  });
});

describe('ONNX writer', () => {
  test('writes only what the outputs need, with the inputs they need', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [2]);
    g.input('unused', 'float32', [2]);
    const lowered = lowerGraph({ y: op.tanh(a) });
    assert.deepEqual(lowered.inputs.map((v) => v.name), ['a']);
    // a valid protobuf: field 1 (ir_version, varint 8) first, producer name next
    assert.deepEqual([...lowered.bytes.slice(0, 2)], [0x08, 0x08]);
    assert.ok(Buffer.from(lowered.bytes).includes('bert-ts'));
  });
  test('dynamic batch and sequence: one compiled graph runs any batch size', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 4]);
    const flat = op.reshape(x, [-1, 4]);
    const c = await CompiledGraph.compile({ y: op.reduceSum(flat, [1], false) });
    for (const [b, s] of [[1, 3], [5, 7]] as const) {
      const y = (await c.run({ x: f32([b, s, 4], 0.5) })).y!;
      assert.deepEqual(y.shape, [b * s]);
      assert.ok([...y.data].every((v) => v === 2));
    }
  });
});

describe('sumLeadingAxes', () => {
  test('sums the leading axes for even and odd row counts, with symbolic dims, and shares the split between tensors of one shape', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 3]);
    const y = g.input('y', 'float32', ['batch', 'seq', 3]);
    const c = await CompiledGraph.compile({ sx: op.sumLeadingAxes(x, 2), sy: op.sumLeadingAxes(y, 2), s1: op.sumLeadingAxes(x, 1) });
    assert.equal(g.nodes.filter((n) => n.op === 'Mod').length, 2, 'one split per (shape, lead), not per tensor');
    for (const [b, s] of [[2, 3], [3, 3], [1, 1], [4, 2]] as const) {
      const n = b * s * 3;
      const data = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 5 + i / 8);
      const r = await c.run({ x: { dtype: 'float32', shape: [b, s, 3], data }, y: { dtype: 'float32', shape: [b, s, 3], data: data.map((v) => 2 * v) } });
      const byCol = [0, 1, 2].map((k) => data.filter((_, i) => i % 3 === k).reduce((a, v) => a + v, 0));
      const byRow = Array.from({ length: s * 3 }, (_, j) => Array.from({ length: b }, (_, i) => data[i * s * 3 + j]!).reduce((a, v) => a + v, 0));
      assert.deepEqual(r.sx!.shape, [3]);
      assert.deepEqual(r.s1!.shape, [s, 3]);
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(Number(r.sx!.data[k]) - byCol[k]!) < 1e-4, `${b}x${s} column ${k}`);
        assert.ok(Math.abs(Number(r.sy!.data[k]) - 2 * byCol[k]!) < 1e-4, `${b}x${s} column ${k} of y`);
      }
      byRow.forEach((v, j) => assert.ok(Math.abs(Number(r.s1!.data[j]) - v) < 1e-4, `${b}x${s} element ${j} of the sum over the first axis`));
    }
  });
});

test('dropout in float32 is x * (1 / (1 - p)) where the mask keeps, 0 where it drops, forward and backward, bit for bit', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 5], 'param');
  const w = g.input('w', 'float32', [2, 5]);
  const keep = g.input('keep', 'uint8', [2, 5]);
  const p = 0.1;
  const y = op.dropout(x, keep, p);
  const [dx] = gradients(op.reduceSum(op.mul(y, w), [0, 1], false), [x]);
  const c = await CompiledGraph.compile({ y, dx: dx! });
  const xs = [0.3, -1.7, 2.5, 1e-3, -0.2, 7, 0.1, -3.3, 4.4, 1 / 3];
  const ws = [1.5, -2, 0.7, 3, -0.1, 0.9, 2.2, -1.3, 0.25, 5];
  const mask = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1];
  const r = await c.run({
    x: hostTensor('float32', [2, 5], Float32Array.from(xs)),
    w: hostTensor('float32', [2, 5], Float32Array.from(ws)),
    keep: hostTensor('uint8', [2, 5], Uint8Array.from(mask)),
  });
  const scale = Math.fround(1 / (1 - p));
  // a dropped element is x * 0: -0 where x is negative, as IEEE multiplication gives it
  mask.forEach((m, i) => {
    assert.equal(r.y!.data[i], Math.fround(Math.fround(xs[i]!) * (m ? scale : 0)), `y ${i}`);
    assert.equal(r.dx!.data[i], Math.fround(Math.fround(ws[i]!) * (m ? scale : 0)), `dx ${i}`);
  });
  assert.throws(() => op.dropout(x, g.input('b', 'bool', [2, 5]), p), /Dropout: the keep-mask must be uint8/);
});

test('with the QDQ rewrites of ORT off (training sessions), the dropout factor that forward and backward share stays one node', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [4], 'param');
  const y = op.dropout(x, g.input('keep', 'uint8', [4]), 0.1);
  const [dx] = gradients(op.reduceSum(op.mul(y, y), [0], false), [x]);
  const dir = mkdtempSync(join(tmpdir(), 'qdq-'));
  const copies = async (qdqRewrites: boolean) => {
    const path = join(dir, `${qdqRewrites}.onnx`);
    await (await CompiledGraph.compile({ y, dx: dx! }, { qdqRewrites, optimizedModelPath: path })).dispose();
    return Buffer.from(readFileSync(path)).toString('latin1').split('DequantizeLinear/duplicated').length - 1;
  };
  try {
    assert.ok((await copies(true)) > 0, 'ORT duplicates a shared DequantizeLinear by default');
    assert.equal(await copies(false), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cross entropy over (N, C) logits runs as LogSoftmax over the last axis and NLL: the mean loss over non-ignored labels, and log-probabilities', async () => {
  const g = new Graph();
  const logits = g.input('logits', 'float32', ['n', 4]);
  const labels = g.input('labels', 'int64', ['n']);
  const [loss, logProb] = op.softmaxCrossEntropy(logits, labels, -100);
  let ops: string[] = [];
  lowerGraph({ loss, logProb }, { passes: [(onnx) => (ops = onnx.nodes.map((n) => n.opType))] });
  assert.deepEqual(ops.filter((o) => o !== 'Identity'), ['LogSoftmax', 'NegativeLogLikelihoodLoss']);
  const c = await CompiledGraph.compile({ loss, logProb });
  const x = [1, 2, 3, 4, -1, 0.5, 0, 2, 3, 3, -2, 0];
  const y = [3, -100, 0];
  const r = await c.run({ logits: { dtype: 'float32', shape: [3, 4], data: Float32Array.from(x) }, labels: { dtype: 'int64', shape: [3], data: BigInt64Array.from(y.map(BigInt)) } });
  const lp = x.map((v, i) => {
    const row = x.slice(i - (i % 4), i - (i % 4) + 4);
    const max = Math.max(...row);
    return v - max - Math.log(row.reduce((a, u) => a + Math.exp(u - max), 0));
  });
  lp.forEach((v, i) => assert.ok(Math.abs(Number(r.logProb!.data[i]) - v) < 1e-6, `log_prob ${i}`));
  const expected = -(lp[0 * 4 + 3]! + lp[2 * 4 + 0]!) / 2;
  assert.ok(Math.abs(Number(r.loss!.data[0]) - expected) < 1e-6, `loss ${r.loss!.data[0]} vs ${expected}`);
});
