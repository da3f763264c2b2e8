import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Value } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { gradCheck } from './helpers/gradcheck.ts';

const TOL = 1e-6;
const i64 = (shape: number[], values: number[]) => ({ dtype: 'int64' as const, shape, data: BigInt64Array.from(values, BigInt) });
const bool = (shape: number[], values: number[]) => ({ dtype: 'bool' as const, shape, data: Uint8Array.from(values) });

async function expectGrad(name: string, c: Parameters<typeof gradCheck>[0]): Promise<void> {
  const err = await gradCheck(c);
  assert.ok(err < TOL, `${name}: relative error ${err.toExponential(2)} >= ${TOL}`);
}

describe('gradient rules match central finite differences in float64', () => {
  test('Add/Sub/Mul/Div with broadcasting reduce back over broadcast axes', async () => {
    const inputs = { a: [2, 3, 4], b: [3, 1], c: [4] };
    await expectGrad('add', { inputs, build: ({ a, b, c }) => op.add(op.add(a!, b!), c!) });
    await expectGrad('sub', { inputs, build: ({ a, b, c }) => op.sub(op.sub(a!, b!), c!) });
    await expectGrad('mul', { inputs, build: ({ a, b, c }) => op.mul(op.mul(a!, b!), c!) });
    await expectGrad('div', { inputs: { a: [2, 3, 4], b: [3, 1] }, positive: true, build: ({ a, b }) => op.div(a!, b!) });
  });

  test('symbolic batch dims broadcast against static ones', async () => {
    await expectGrad('symbolic', {
      inputs: { x: [3, 2, 4], w: [4] },
      declared: { x: ['batch', 'seq', 4] },
      build: ({ x, w }) => op.mul(op.add(x!, w!), w!),
    });
  });

  test('unary ops: Neg, Exp, Log, Sqrt, Tanh', async () => {
    const inputs = { x: [3, 5] };
    await expectGrad('neg', { inputs, build: ({ x }) => op.neg(x!) });
    await expectGrad('exp', { inputs, build: ({ x }) => op.exp(x!) });
    await expectGrad('log', { inputs, positive: true, build: ({ x }) => op.log(x!) });
    await expectGrad('sqrt', { inputs, positive: true, build: ({ x }) => op.sqrt(x!) });
    await expectGrad('tanh', { inputs, build: ({ x }) => op.tanh(x!) });
  });

  test('Erf and GELU (float64 Erf is a Taylor series: inputs stay within |x| <= 3)', async () => {
    await expectGrad('erf', { inputs: { x: [3, 5] }, build: ({ x }) => op.erf(op.mul(x!, 2)) });
    await expectGrad('gelu', { inputs: { x: [3, 5] }, build: ({ x }) => op.gelu(op.mul(x!, 3)) });
  });

  test('MatMul, batched and broadcast', async () => {
    await expectGrad('matmul 2d', { inputs: { a: [3, 4], b: [4, 5] }, build: ({ a, b }) => op.matmul(a!, b!) });
    await expectGrad('matmul batched', { inputs: { a: [2, 3, 3, 4], b: [2, 3, 4, 2] }, build: ({ a, b }) => op.matmul(a!, b!) });
    await expectGrad('matmul broadcast', { inputs: { a: [2, 3, 4], b: [4, 5] }, build: ({ a, b }) => op.matmul(a!, b!) });
  });

  test('MatMul with transposed operands (FusedMatMul), batched and broadcast, every combination', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await expectGrad(`fusedmatmul tA=${transA} tB=${transB}`, {
          inputs: { a: transA ? [2, 3, 4, 3] : [2, 3, 3, 4], b: transB ? [3, 2, 4] : [3, 4, 2] },
          build: ({ a, b }) => op.matmul(a!, b!, { transA, transB }),
        });
      }
    }
  });

  test('Gemm with every transpose combination and a broadcast bias', async () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await expectGrad(`gemm tA=${transA} tB=${transB}`, {
          inputs: { a: transA ? [4, 3] : [3, 4], b: transB ? [5, 4] : [4, 5], c: [5] },
          build: ({ a, b, c }) => op.gemm(a!, b!, c!, { transA, transB, alpha: 0.7 }),
        });
      }
    }
  });

  test('Reshape (with -1 and symbolic dims), Transpose, Unsqueeze', async () => {
    await expectGrad('reshape', {
      inputs: { x: [2, 3, 4] },
      declared: { x: ['batch', 3, 4] },
      build: ({ x }) => op.transpose(op.reshape(x!, ['batch', 3, 2, 2]), [0, 2, 1, 3]),
    });
    await expectGrad('flatten', { inputs: { x: [2, 3, 4] }, declared: { x: ['b', 's', 4] }, build: ({ x }) => op.reshape(x!, [-1, 4]) });
    await expectGrad('unsqueeze', { inputs: { x: [2, 3] }, build: ({ x }) => op.unsqueeze(x!, [1]) });
  });

  test('Gather rows (repeated indices accumulate) and a static Slice', async () => {
    await expectGrad('gather', {
      inputs: { w: [5, 3] },
      extra: { ids: i64([2, 3], [0, 4, 4, 1, 0, 0]) },
      build: ({ w, ids }) => op.gather(w!, ids!),
    });
    await expectGrad('slice', { inputs: { x: [2, 5, 3] }, declared: { x: [2, 'seq', 3] }, build: ({ x }) => op.slice(x!, 1, 1, 3) });
  });

  test('Concat and Split', async () => {
    await expectGrad('concat', { inputs: { a: [2, 3], b: [2, 2] }, build: ({ a, b }) => op.concat([a!, b!], 1) });
    await expectGrad('split', {
      inputs: { x: [2, 5] },
      build: ({ x }) => {
        const [p, q] = op.split(x!, 1, [2, 3]);
        return op.mul(op.reduceSum(p!, [1], true), q!);
      },
    });
  });

  test('ReduceSum and ReduceMean, with and without keepdims', async () => {
    for (const keep of [true, false]) {
      await expectGrad(`sum keep=${keep}`, { inputs: { x: [2, 3, 4] }, build: ({ x }) => op.reduceSum(x!, [0, 2], keep) });
      await expectGrad(`mean keep=${keep}`, {
        inputs: { x: [2, 3, 4] },
        declared: { x: ['batch', 3, 4] },
        build: ({ x }) => op.reduceMean(x!, [0, 2], keep),
      });
    }
  });

  test('Softmax and LogSoftmax', async () => {
    await expectGrad('softmax', { inputs: { x: [2, 3, 5] }, build: ({ x }) => op.softmax(x!, -1) });
    await expectGrad('logsoftmax', { inputs: { x: [4, 5] }, build: ({ x }) => op.logSoftmax(x!, 1) });
  });

  test('LayerNormalization: input, scale and bias', async () => {
    await expectGrad('layernorm', {
      inputs: { x: [2, 3, 6], s: [6], b: [6] },
      build: ({ x, s, b }) => op.layerNorm(x!, s!, b!, 1e-12)[0],
    });
  });

  test('Where and dropout reuse the forward mask in the backward', async () => {
    const keep = bool([2, 4], [1, 0, 1, 1, 0, 1, 1, 0]);
    await expectGrad('where', {
      inputs: { a: [2, 4], b: [4] },
      extra: { keep },
      build: ({ a, b, keep }) => op.where(keep!, a!, b!),
    });
    await expectGrad('dropout', { inputs: { x: [2, 4] }, extra: { keep: { ...keep, dtype: 'uint8' } }, build: ({ x, keep }) => op.dropout(x!, keep!, 0.25) });
  });

  test('cross entropy with an ignore index averages over the non-ignored labels', async () => {
    await expectGrad('sce', {
      inputs: { logits: [5, 4] },
      extra: { labels: i64([5], [1, -100, 3, 0, -100]) },
      build: ({ logits, labels }) => op.softmaxCrossEntropy(logits!, labels!, -100)[0],
    });
  });

  test('a weight used twice (tied embeddings) accumulates both gradients', async () => {
    await expectGrad('tied', {
      inputs: { w: [6, 3] },
      extra: { ids: i64([4], [1, 5, 1, 2]) },
      build: ({ w, ids }) => {
        const h = op.gather(w!, ids!); // (4, 3) embedding lookup
        return op.gemm(op.tanh(h), w!, undefined, { transB: true }); // (4, 6) decoder tied to w
      },
    });
  });

  test('one attention block: projections, scaled dot-product, padding mask, softmax, output', async () => {
    const B = 2, S = 3, H = 4, A = 2, D = H / A;
    await expectGrad('attention', {
      inputs: { x: [B * S, H], wq: [H, H], wk: [H, H], wv: [H, H], wo: [H, H] },
      extra: { maskAdd: { dtype: 'float64', shape: [B, 1, 1, S], data: Float64Array.from([0, 0, -10000, 0, 0, 0]) } },
      build: ({ x, wq, wk, wv, wo, maskAdd }) => {
        const heads = (t: Value) => op.transpose(op.reshape(t, [B, S, A, D]), [0, 2, 1, 3]); // (B, A, S, D)
        const q = heads(op.gemm(x!, wq!, undefined, { transB: true }));
        const k = heads(op.gemm(x!, wk!, undefined, { transB: true }));
        const v = heads(op.gemm(x!, wv!, undefined, { transB: true }));
        const scores = op.add(op.mul(op.matmul(q, op.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(D)), maskAdd!);
        const ctx = op.matmul(op.softmax(scores, -1), v); // (B, A, S, D)
        const merged = op.reshape(op.transpose(ctx, [0, 2, 1, 3]), [B * S, H]);
        return op.gemm(merged, wo!, undefined, { transB: true });
      },
    });
  });
});

describe('float32 graphs on ORT kernels agree with the float64 definitions', () => {
  test('FusedMatMul reads transposed operands as a plain matmul of the transposes would', async () => {
    const { Graph } = await import('../src/graph/graph.ts');
    const { CompiledGraph } = await import('../src/runtime/session.ts');
    const [B, M, K, N] = [2, 3, 5, 4];
    // small integers: every product and sum is exact in float32, so the comparison is exact
    const fill = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 9) - 4);
    const at = (x: Float32Array, rows: number, cols: number, b: number, r: number, c: number, t: boolean) => (t ? x[b * rows * cols + c * cols + r]! : x[b * rows * cols + r * cols + c]!);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = fill(B * M * K, 1);
        const b = fill(K * N, 2); // broadcast over the batch
        const g = new Graph();
        const aShape = transA ? [B, K, M] : [B, M, K];
        const bShape = transB ? [N, K] : [K, N];
        const y = op.matmul(g.input('a', 'float32', aShape), g.input('b', 'float32', bShape), { transA, transB });
        const c = await CompiledGraph.compile({ y });
        const out = (await c.run({ a: { dtype: 'float32', shape: aShape, data: a }, b: { dtype: 'float32', shape: bShape, data: b } })).y!;
        assert.deepEqual(out.shape, [B, M, N]);
        for (let bi = 0; bi < B; bi++) {
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let sum = 0;
              for (let k = 0; k < K; k++) sum += at(a, aShape[1]!, aShape[2]!, bi, i, k, transA) * at(b, bShape[0]!, bShape[1]!, 0, k, j, transB);
              assert.equal(out.data[(bi * M + i) * N + j], sum, `tA=${transA} tB=${transB} [${bi},${i},${j}]`);
            }
          }
        }
        await c.dispose();
      }
    }
  });

  test('GELU (com.microsoft Gelu) equals x * Φ(x) computed in float64 within 1e-6', async () => {
    const { Graph } = await import('../src/graph/graph.ts');
    const { CompiledGraph } = await import('../src/runtime/session.ts');
    const xs = Float64Array.from({ length: 201 }, (_, i) => -6 + i * 0.06);
    const run = async (dtype: 'float32' | 'float64') => {
      const g = new Graph();
      const x = g.input('x', dtype, [xs.length]);
      const c = await CompiledGraph.compile({ y: op.gelu(x) });
      const data = dtype === 'float32' ? Float32Array.from(xs) : xs;
      return (await c.run({ x: { dtype, shape: [xs.length], data } })).y!.data as Float64Array;
    };
    const y32 = await run('float32');
    // the float64 lowering evaluates erf by its Taylor series, accurate where |x / sqrt 2| <= 3
    const y64 = await run('float64');
    xs.forEach((x, i) => {
      if (Math.abs(x) <= 4) assert.ok(Math.abs(y32[i]! - y64[i]!) < 1e-6, `gelu(${x}): ${y32[i]} vs ${y64[i]}`);
    });
    // and the tails, where x * Φ(x) -> x or 0
    assert.ok(Math.abs(y32[200]! - 6) < 1e-6 && Math.abs(y32[0]!) < 1e-6);
  });
});
