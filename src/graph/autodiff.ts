// Reverse-mode autodiff: one gradient rule per op, and a walk. The rules add the backward nodes to
// the same graph, so forward and backward run as one ONNX graph.
import { BertError } from '../errors.ts';
import { ancestors, type Node, type Value } from './graph.ts';
import {
  add, cast, concat, countOf, div, equal, erf, exp, expandLike, gemm, matmul, mul, neg, not, padAxis, reduceMean, reduceSum,
  range, reshapeLike, scatterNDAdd, shapeOf, sizeOf, slice, sub, sumLeadingAxes, transpose, unsqueeze, where, zerosLike,
} from './ops.ts';
import { dimEq } from './shape.ts';

/** Given the node, the gradients of its outputs (undefined = zero) and which inputs need one. */
type Rule = (n: Node, gOut: Array<Value | undefined>, needs: boolean[]) => Array<Value | undefined>;

/** Sums `g` over the axes along which `target` was broadcast, giving `target`'s shape. */
export function unbroadcast(g: Value, target: Value): Value {
  let r = g;
  const lead = g.rank - target.rank;
  if (lead > 0) r = sumLeadingAxes(r, lead);
  const ones = target.shape.flatMap((d, i) => (d === 1 && r.shape[i] !== 1 ? [i] : []));
  if (ones.length) r = reduceSum(r, ones, true);
  return r;
}

const attr = (n: Node, name: string, dflt: number): number => {
  const a = n.attrs[name];
  return a && a.type === 'int' ? a.value : a && a.type === 'float' ? a.value : dflt;
};
const one = (v: Value): Value => v.graph.scalar(1, v.dtype);

/** The gradient of y = f(x) for the elementwise ops: dy/dx in terms of x and y. */
function elementwise(d: (x: Value, y: Value) => Value): Rule {
  return (n, [g]) => [mul(g!, d(n.inputs[0]!, n.outputs[0]!))];
}

// y = op(a) op(b), for Gemm and (Fused)MatMul alike: d op(a) = g op(b)^T and d op(b) = op(a)^T g, with
// the transposes as flags of the gradient's own products, never copies.
function productGrads(
  product: (x: Value, y: Value, t: { transA?: boolean; transB?: boolean }) => Value,
  n: Node, g: Value, [na, nb]: boolean[],
): [Value | undefined, Value | undefined] {
  const [a, b] = n.inputs as [Value, Value];
  const tA = attr(n, 'transA', 0) === 1;
  const tB = attr(n, 'transB', 0) === 1;
  const da = !na ? undefined : tA ? product(b, g, { transA: tB, transB: true }) : product(g, b, { transB: !tB });
  const db = !nb ? undefined : tB ? product(g, a, { transA: true, transB: tA }) : product(a, g, { transA: !tA });
  return [da, db];
}

function matmulRule(n: Node, [g]: Array<Value | undefined>, needs: boolean[]): Array<Value | undefined> {
  if (attr(n, 'alpha', 1) !== 1 || attr(n, 'transBatchA', 0) !== 0 || attr(n, 'transBatchB', 0) !== 0) {
    throw new BertError(`${n.name}: gradient of FusedMatMul is implemented for transA / transB only`);
  }
  const [a, b] = n.inputs as [Value, Value];
  const [da, db] = productGrads(matmul, n, g!, needs);
  return [da && unbroadcast(da, a), db && unbroadcast(db, b)];
}

const RULES: Record<string, Rule> = {
  Identity: (_n, [g]) => [g],
  Add: (n, [g], [na, nb]) => [na ? unbroadcast(g!, n.inputs[0]!) : undefined, nb ? unbroadcast(g!, n.inputs[1]!) : undefined],
  Sub: (n, [g], [na, nb]) => [na ? unbroadcast(g!, n.inputs[0]!) : undefined, nb ? unbroadcast(neg(g!), n.inputs[1]!) : undefined],
  Mul: (n, [g], [na, nb]) => {
    const [a, b] = n.inputs as [Value, Value];
    return [na ? unbroadcast(mul(g!, b), a) : undefined, nb ? unbroadcast(mul(g!, a), b) : undefined];
  },
  Div: (n, [g], [na, nb]) => {
    const [a, b] = n.inputs as [Value, Value];
    const y = n.outputs[0]!;
    return [na ? unbroadcast(div(g!, b), a) : undefined, nb ? unbroadcast(neg(div(mul(g!, y), b)), b) : undefined];
  },
  Neg: (_n, [g]) => [neg(g!)],
  Exp: elementwise((_x, y) => y),
  Log: (n, [g]) => [div(g!, n.inputs[0]!)],
  Sqrt: (n, [g]) => [div(g!, mul(n.outputs[0]!, 2))],
  Tanh: elementwise((_x, y) => sub(one(y), mul(y, y))),
  Erf: elementwise((x) => mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))),
  // d/dx x Φ(x) = Φ(x) + x φ(x)
  Gelu: elementwise((x) => {
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return add(cdf, mul(x, pdf));
  }),
  Cast: (n, [g]) => {
    const x = n.inputs[0]!;
    return [x.dtype.startsWith('float') ? cast(g!, x.dtype) : undefined];
  },

  MatMul: matmulRule,
  FusedMatMul: matmulRule,
  Gemm: (n, [g], needs) => {
    const c = n.inputs[2];
    const alpha = attr(n, 'alpha', 1);
    const [da, db] = productGrads((x, y, t) => gemm(x, y, undefined, { ...t, alpha }), n, g!, needs);
    return [da, db, c && needs[2] ? unbroadcast(g!, c) : undefined];
  },

  Transpose: (n, [g]) => {
    const perm = (n.attrs.perm as { value: number[] }).value;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inv)];
  },
  Reshape: (n, [g]) => [reshapeLike(g!, n.inputs[0]!), undefined],
  Unsqueeze: (n, [g]) => [reshapeLike(g!, n.inputs[0]!), undefined],
  Expand: (n, [g]) => [unbroadcast(g!, n.inputs[0]!), undefined],

  ReduceSum: (n, [g]) => [expandLike(keepDims(n, g!), n.inputs[0]!), undefined],
  ReduceMean: (n, [g]) => {
    const x = n.inputs[0]!;
    const axes = (n.attrs.axes as { value: number[] }).value;
    return [div(expandLike(keepDims(n, g!), x), countOf(x, axes, x.dtype))];
  },

  Softmax: (n, [g]) => {
    const y = n.outputs[0]!;
    const axis = attr(n, 'axis', -1);
    return [mul(y, sub(g!, reduceSum(mul(g!, y), [axis], true)))];
  },
  LogSoftmax: (n, [g]) => {
    const y = n.outputs[0]!;
    return [sub(g!, mul(exp(y), reduceSum(g!, [attr(n, 'axis', -1)], true)))];
  },
  LayerNormalization: (n, [g, gMean, gInv], [nx, ns, nb]) => {
    if (gMean || gInv) throw new BertError(`${n.name}: gradients through LayerNormalization's mean/inv_std outputs are not supported`);
    const [x, scale] = n.inputs as [Value, Value];
    const [, mean, invStd] = n.outputs as [Value, Value, Value];
    const lead = [...Array(x.rank - 1).keys()];
    const xhat = mul(sub(x, mean), invStd);
    let dx: Value | undefined;
    if (nx) {
      const dxhat = mul(g!, scale);
      const inner = sub(sub(dxhat, reduceMean(dxhat, [-1])), mul(xhat, reduceMean(mul(dxhat, xhat), [-1])));
      dx = mul(invStd, inner);
    }
    return [dx, ns ? sumLeadingAxes(mul(g!, xhat), lead.length) : undefined, nb ? sumLeadingAxes(g!, lead.length) : undefined];
  },

  Gather: (n, [g]) => {
    const [data, indices] = n.inputs as [Value, Value];
    if (attr(n, 'axis', 0) !== 0) throw new BertError(`${n.name}: gradient of Gather is implemented for axis 0 only`);
    return [scatterNDAdd(zerosLike(data), unsqueeze(cast(indices, 'int64'), [-1]), g!), undefined];
  },
  Slice: (n, [g]) => {
    const [x, starts, ends, axes] = n.inputs;
    const g0 = g!;
    const axis = constInt(axes!);
    const start = constInt(starts!);
    const after = sub(shapeOf(x!, axis, axis + 1), ends!);
    return [padAxis(g0, axis, start, after, x!.shape[axis]!)];
  },
  Concat: (n, [g]) => {
    const axis = attr(n, 'axis', 0);
    let off = 0;
    return n.inputs.map((x) => {
      const d = x.shape[axis]!;
      if (typeof d !== 'number') throw new BertError(`${n.name}: gradient of Concat needs static sizes on axis ${axis}`);
      const part = slice(g!, axis, off, off + d);
      off += d;
      return part;
    });
  },
  Split: (n, gOut) => [concat(n.outputs.map((o, i) => gOut[i] ?? zerosLike(o)), attr(n, 'axis', 0)), undefined],
  Where: (n, [g], [, na, nb]) => {
    const [c, a, b] = n.inputs as [Value, Value, Value];
    return [
      undefined,
      na ? unbroadcast(where(c, g!, 0), a) : undefined,
      nb ? unbroadcast(where(c, 0, g!), b) : undefined,
    ];
  },
  SoftmaxCrossEntropyLoss: (n, [g]) => {
    const [logits, labels] = n.inputs as [Value, Value];
    const logProb = n.outputs[1]!;
    const ignore = attr(n, 'ignore_index', -100);
    const keep = not(equal(labels, ignore)); // (N)
    const valid = cast(keep, logits.dtype);
    // mean over non-ignored labels; max(count, 1) keeps an all-ignored batch at zero gradient
    const count = reduceSum(valid, [0], false);
    const scale = div(g!, where(equal(count, 0), one(count), count));
    // softmax - onehot(label), the onehot taken away by a sparse add of -1 at (row, label) instead of
    // being built densely: four passes over the (N, C) logits instead of six, bit-identical results
    // (ignored rows get -0 added; their gradient is zeroed by `valid`). valid * scale is one (N, 1)
    // factor, so one pass over the logits scales them.
    const rows = range(sizeOf(logits, 0), logits.shape[0]!);
    const at = concat([unsqueeze(rows, [-1]), unsqueeze(where(keep, labels, 0), [-1])], 1); // (N, 2)
    const dLogits = scatterNDAdd(exp(logProb), at, neg(valid)); // (N, C)
    return [mul(dLogits, unsqueeze(mul(valid, scale), [-1])), undefined];
  },
};

function keepDims(n: Node, g: Value): Value {
  const x = n.inputs[0]!;
  if (attr(n, 'keepdims', 1) === 1) return g;
  const axes = n.op === 'ReduceSum' ? constInts(n.inputs[1]!) : (n.attrs.axes as { value: number[] }).value;
  return unsqueeze(g, axes.map((a) => (a < 0 ? a + x.rank : a)));
}

function constInts(v: Value): number[] {
  const c = v.graph.constants.find((k) => k.value === v);
  if (!c || !(c.data instanceof BigInt64Array)) throw new BertError(`${v.name}: expected an int64 constant`);
  return Array.from(c.data, Number);
}
const constInt = (v: Value): number => constInts(v)[0]!;

/** True where the accumulated gradient can absorb a sparse ScatterND-add instead of adding dense zeros. */
function scatterIntoZeros(v: Value): Node | undefined {
  const n = v.producer;
  return n && n.op === 'ScatterND' && n.inputs[0]!.producer?.op === 'ConstantOfShape' ? n : undefined;
}

function accumulate(prev: Value | undefined, g: Value): Value {
  if (!prev) return g;
  // Tied embeddings: the decoder's dense gradient absorbs the lookup's sparse rows directly.
  const s = scatterIntoZeros(g);
  if (s) return scatterNDAdd(prev, s.inputs[1]!, s.inputs[2]!);
  const p = scatterIntoZeros(prev);
  if (p) return scatterNDAdd(g, p.inputs[1]!, p.inputs[2]!);
  return add(prev, g);
}

/**
 * Gradients of the scalar `loss` with respect to each of `wrt`, as new values in the same graph.
 * Only the nodes on a path from `wrt` to `loss` are differentiated; an input the loss does not depend
 * on gets zeros.
 */
export function gradients(loss: Value, wrt: Value[]): Value[] {
  if (loss.rank !== 0 || !loss.dtype.startsWith('float')) {
    throw new BertError(`gradients: the loss must be a float scalar, got ${loss}`);
  }
  const order = ancestors([loss]);
  const depends = new Set<Value>(wrt);
  for (const n of order) if (n.inputs.some((i) => depends.has(i))) for (const o of n.outputs) depends.add(o);

  const grads = new Map<Value, Value>([[loss, one(loss)]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const gOut = n.outputs.map((o) => grads.get(o));
    if (gOut.every((x) => x === undefined)) continue;
    const needs = n.inputs.map((i) => depends.has(i) && i.dtype.startsWith('float'));
    if (!needs.some(Boolean)) continue;
    const rule = RULES[n.op];
    if (!rule) throw new BertError(`gradients: no gradient rule for ${n.op} (node ${n.name})`);
    const gIn = loss.graph.scope(`grad.${n.name}`, () => rule(n, gOut, needs));
    n.inputs.forEach((x, i) => {
      const gi = gIn[i];
      if (!gi || !needs[i]) return;
      if (gi.rank !== x.rank || !gi.shape.every((d, j) => dimEq(d, x.shape[j]!))) {
        throw new BertError(`gradients: rule for ${n.op} (node ${n.name}) gave ${gi} for input ${x}`);
      }
      grads.set(x, accumulate(grads.get(x), gi));
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}
