// Op builders. Each adds one ONNX node to the graph its inputs belong to, after checking dtypes and
// shapes, and returns the output value(s) with their inferred (symbolic) shapes. Gradient rules for
// these ops are in autodiff.ts.
import { BertError } from '../errors.ts';
import { type DType, type Node, Value } from './graph.ts';
import { float, int, ints, str, type AttrValue, type Dim } from './onnx.ts';
import { broadcastShapes, dimDiv, dimEq, normAxis, numel, type Shape, showShape } from './shape.ts';

const FLOATS: readonly DType[] = ['float32', 'float64', 'float16'];

function fail(op: string, msg: string, ...vals: Value[]): never {
  const detail = vals.map((v) => `${v.name} ${v.dtype}${showShape(v.shape)}`).join(', ');
  throw new BertError(`${op}: ${msg}${detail ? ` (${detail})` : ''}`);
}

function sameDtype(op: string, ...vals: Value[]): DType {
  const d = vals[0]!.dtype;
  if (vals.some((v) => v.dtype !== d)) fail(op, 'inputs must have the same dtype', ...vals);
  return d;
}

function requireFloat(op: string, x: Value): void {
  if (!FLOATS.includes(x.dtype)) fail(op, `needs a floating-point input, got ${x.dtype}`, x);
}

function unary(op: string, x: Value, attrs: Record<string, AttrValue> = {}): Value {
  return x.graph.addNode(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0]!;
}

function binary(op: string, a: Value, b: Value, outDtype?: DType): Value {
  const dtype = sameDtype(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) fail(op, 'shapes do not broadcast', a, b);
  return a.graph.addNode(op, [a, b], [{ dtype: outDtype ?? dtype, shape }])[0]!;
}

/** A number becomes a scalar constant of the other operand's dtype. */
const lift = (x: Value | number, like: Value): Value => (typeof x === 'number' ? like.graph.scalar(x, like.dtype) : x);

export const add = (a: Value, b: Value | number): Value => binary('Add', a, lift(b, a));
export const sub = (a: Value, b: Value | number): Value => binary('Sub', a, lift(b, a));
export const mul = (a: Value, b: Value | number): Value => binary('Mul', a, lift(b, a));
export const div = (a: Value, b: Value | number): Value => binary('Div', a, lift(b, a));
export const equal = (a: Value, b: Value | number): Value => binary('Equal', a, lift(b, a), 'bool');
export const less = (a: Value, b: Value | number): Value => binary('Less', a, lift(b, a), 'bool');

export const neg = (x: Value): Value => unary('Neg', x);
export const exp = (x: Value): Value => unary('Exp', x);
export const log = (x: Value): Value => unary('Log', x);
export const sqrt = (x: Value): Value => unary('Sqrt', x);
export const tanh = (x: Value): Value => unary('Tanh', x);
export const erf = (x: Value): Value => unary('Erf', x);
export const identity = (x: Value): Value => unary('Identity', x);
export const not = (x: Value): Value => unary('Not', x);

export function cast(x: Value, to: DType): Value {
  const codes: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
  return x.graph.addNode('Cast', [x], [{ dtype: to, shape: x.shape }], { to: int(codes[to]) })[0]!;
}

export interface MatMulOptions {
  /** Use a's last two axes swapped. */
  transA?: boolean;
  /** Use b's last two axes swapped. */
  transB?: boolean;
}

/**
 * numpy matmul of op(a) and op(b), rank >= 2: (..., m, k) @ (..., k, n) -> (..., m, n), batch dims
 * broadcast. With a transpose flag it is ORT's com.microsoft FusedMatMul: its GEMM reads
 * the operand transposed, where a Transpose node would copy it first (and ORT merges such a copy with
 * the head split's own Transpose into one whose innermost axis is not contiguous, 3-4x slower).
 */
export function matmul(a: Value, b: Value, opts: MatMulOptions = {}): Value {
  const dtype = sameDtype('MatMul', a, b);
  if (a.rank < 2 || b.rank < 2) fail('MatMul', 'operands must have rank >= 2', a, b);
  const last2 = (x: Value, t: boolean | undefined) => (t ? x.shape.slice(-2).reverse() : x.shape.slice(-2)) as [Dim, Dim];
  const [m, k1] = last2(a, opts.transA);
  const [k2, n] = last2(b, opts.transB);
  if (!dimEq(k1, k2)) fail('MatMul', `inner dims differ (${k1} vs ${k2})`, a, b);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batch) fail('MatMul', 'batch dims do not broadcast', a, b);
  const out = [{ dtype, shape: [...batch, m, n] }];
  if (!opts.transA && !opts.transB) return a.graph.addNode('MatMul', [a, b], out)[0]!;
  const attrs: Record<string, AttrValue> = {};
  if (opts.transA) attrs.transA = int(1);
  if (opts.transB) attrs.transB = int(1);
  return a.graph.addNode('FusedMatMul', [a, b], out, attrs, 'com.microsoft')[0]!;
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
}

/** 2-D alpha * op(a) @ op(b) (+ c, broadcast to (m, n)). The workhorse of every dense layer. */
export function gemm(a: Value, b: Value, c?: Value, opts: GemmOptions = {}): Value {
  const dtype = sameDtype('Gemm', a, b, ...(c ? [c] : []));
  if (a.rank !== 2 || b.rank !== 2) fail('Gemm', 'operands must be 2-D', a, b);
  const [m, k1] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (!dimEq(k1, k2)) fail('Gemm', `inner dims differ (${k1} vs ${k2})`, a, b);
  if (c && !broadcastShapes([m, n], c.shape)?.every((d, i) => dimEq(d, [m, n][i]!))) {
    fail('Gemm', `bias does not broadcast to [${m}, ${n}]`, c);
  }
  const attrs: Record<string, AttrValue> = {};
  if (opts.transA) attrs.transA = int(1);
  if (opts.transB) attrs.transB = int(1);
  if (opts.alpha !== undefined && opts.alpha !== 1) attrs.alpha = float(opts.alpha);
  return a.graph.addNode('Gemm', c ? [a, b, c] : [a, b], [{ dtype, shape: [m, n] }], attrs)[0]!;
}

export function transpose(x: Value, perm: number[]): Value {
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    fail('Transpose', `perm [${perm}] is not a permutation of ${x.rank} axes`, x);
  }
  return x.graph.addNode('Transpose', [x], [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }], { perm: ints(perm) })[0]!;
}

/**
 * Reshape to `shape`: numbers, symbolic dims, and at most one -1. A symbolic dim must either sit at the
 * same index in the input (lowered as ONNX's 0, "copy") or be the one inferred by -1.
 */
export function reshape(x: Value, shape: Dim[]): Value {
  const g = x.graph;
  const known = shape.filter((d) => d !== -1);
  if (shape.length - known.length > 1) fail('Reshape', `at most one -1 in [${shape}]`, x);
  // A -1 that does not divide symbolically (batch*choices -> (batch, choices)) becomes an opaque symbol.
  const rest = dimDiv(numel(x.shape), numel(known)) ?? `(${numel(x.shape)})/(${numel(known)})`;
  const out = shape.map((d) => (d === -1 ? rest : d));
  if (!shape.includes(-1) && !dimEq(numel(out), numel(x.shape))) fail('Reshape', `element count differs from [${shape}]`, x);
  const spec = shape.map((d, i) => {
    if (typeof d === 'number') return d;
    if (i < x.rank && dimEq(x.shape[i]!, d)) return 0;
    if (shape.includes(-1)) fail('Reshape', `symbolic dim '${d}' at index ${i} cannot be lowered`, x);
    return -1;
  });
  return g.addNode('Reshape', [x, g.ints(spec)], [{ dtype: x.dtype, shape: out }])[0]!;
}

/** Reshape to a runtime shape vector (int64 [rank]) whose symbolic result is `out`. */
export function reshapeTo(x: Value, shape: Value, out: Shape): Value {
  if (shape.dtype !== 'int64' || shape.rank !== 1 || shape.shape[0] !== out.length) fail('Reshape', `shape vector must be int64[${out.length}]`, shape);
  if (!dimEq(numel(out), numel(x.shape))) fail('Reshape', `element count differs from ${showShape(out)}`, x);
  return x.graph.addNode('Reshape', [x, shape], [{ dtype: x.dtype, shape: out }])[0]!;
}

/** The runtime shape of `x`, or of its axes [start, end), as an int64 vector. */
export function shapeOf(x: Value, start?: number, end?: number): Value {
  const attrs: Record<string, AttrValue> = {};
  if (start !== undefined) attrs.start = int(start);
  if (end !== undefined) attrs.end = int(end);
  const len = (end ?? x.rank) - (start ?? 0);
  return x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [len] }], attrs)[0]!;
}

/** Reshape `x` to the runtime shape of `like` (same element count). */
export function reshapeLike(x: Value, like: Value): Value {
  // An opaque dim ("(batch)/(4)", from a -1 that did not divide) cannot be compared symbolically: ORT checks the count at run time.
  const opaque = (v: Value) => v.shape.some((d) => typeof d === 'string' && d.includes('/'));
  if (!opaque(x) && !opaque(like) && !dimEq(numel(x.shape), numel(like.shape))) fail('Reshape', 'element count differs', x, like);
  return x.graph.addNode('Reshape', [x, shapeOf(like)], [{ dtype: x.dtype, shape: like.shape }])[0]!;
}

/** Broadcast `x` to the runtime shape of `like`. */
export function expandLike(x: Value, like: Value): Value {
  const shape = broadcastShapes(x.shape, like.shape);
  if (!shape || shape.length !== like.rank || !shape.every((d, i) => dimEq(d, like.shape[i]!))) {
    fail('Expand', 'does not broadcast to the target', x, like);
  }
  return x.graph.addNode('Expand', [x, shapeOf(like)], [{ dtype: x.dtype, shape: like.shape }])[0]!;
}

/** A tensor of `value`s with the runtime shape given by the int64 vector `shape`. */
export function constantOfShape(shape: Value, staticShape: Shape, value: number, dtype: DType): Value {
  const g = shape.graph;
  const t = dtype === 'float64' ? new Float64Array([value]) : new Float32Array([value]);
  const raw = new Uint8Array(t.buffer);
  const attrs = { value: { type: 'tensor', value: { name: 'value', dtype, dims: [1], raw } } as AttrValue };
  return g.addNode('ConstantOfShape', [shape], [{ dtype, shape: staticShape }], attrs)[0]!;
}

/** Inserts size-1 axes at `axes` (of the output). */
export function unsqueeze(x: Value, axes: number[]): Value {
  const rank = x.rank + axes.length;
  const norm = axes.map((a) => normAxis(a, rank));
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]!);
  return x.graph.addNode('Unsqueeze', [x, x.graph.ints(norm)], [{ dtype: x.dtype, shape }])[0]!;
}

/** The product of x's runtime dims at `axes`, as a scalar of `dtype` (a count for means). */
export function countOf(x: Value, axes: number[], dtype: DType): Value {
  const g = x.graph;
  const dims = x.graph.addNode('Gather', [shapeOf(x), g.ints(axes.map((a) => normAxis(a, x.rank)))], [{ dtype: 'int64', shape: [axes.length] }], {
    axis: int(0),
  })[0]!;
  const prod = g.addNode('ReduceProd', [dims], [{ dtype: 'int64', shape: [] }], { keepdims: int(0) })[0]!;
  return cast(prod, dtype);
}

/** The runtime size of x's `axis`, as an int64 scalar. */
export function sizeOf(x: Value, axis: number): Value {
  const a = normAxis(axis, x.rank);
  return reshape(shapeOf(x, a, a + 1), []);
}

/** [0, 1, ..., limit - 1] for an int64 scalar `limit`; `dim` is its symbolic length. */
export function range(limit: Value, dim: Dim): Value {
  const g = limit.graph;
  return g.addNode('Range', [g.scalar(0, 'int64'), limit, g.scalar(1, 'int64')], [{ dtype: 'int64', shape: [dim] }])[0]!;
}

export const zerosLike = (x: Value): Value => constantOfShape(shapeOf(x), x.shape, 0, x.dtype);

function reduceShape(x: Value, axes: number[], keepdims: boolean): Shape {
  const norm = axes.map((a) => normAxis(a, x.rank));
  return x.shape.flatMap((d, i) => (norm.includes(i) ? (keepdims ? [1] : []) : [d]));
}

export function reduceSum(x: Value, axes: number[], keepdims = true): Value {
  requireFloat('ReduceSum', x);
  const norm = axes.map((a) => normAxis(a, x.rank));
  return x.graph.addNode('ReduceSum', [x, x.graph.ints(norm)], [{ dtype: x.dtype, shape: reduceShape(x, norm, keepdims) }], {
    keepdims: int(keepdims ? 1 : 0),
  })[0]!;
}

/**
 * Sums `x` over its first `lead` axes (bias and LayerNorm gradients). ORT's CPU ReduceSum over leading
 * axes into the trailing ones walks narrow column blocks down every row and ran 3-5x slower on two
 * threads than summing the two halves of the rows apart (a thread each) and then the halves' sums, so
 * an even row count is split in two first; an odd one is summed as before.
 */
export function sumLeadingAxes(x: Value, lead: number): Value {
  requireFloat('ReduceSum', x);
  if (lead < 1 || lead >= x.rank) fail('ReduceSum', `cannot sum the first ${lead} axes`, x);
  const g = x.graph;
  const rows = numel(x.shape.slice(0, lead));
  // [2, rows/2, ...rest] when rows is even, else [rows, 1, ...rest]: computed once per shape of a graph
  const split = g.shared(`sumLeadingAxes:${showShape(x.shape)}:${lead}`, () => {
    const two = g.ints([2]);
    const n = g.addNode('ReduceProd', [shapeOf(x, 0, lead)], [{ dtype: 'int64', shape: [1] }], { keepdims: int(1) })[0]!;
    const odd = g.addNode('Mod', [n, two], [{ dtype: 'int64', shape: [1] }])[0]!;
    const parts = add(two, mul(odd, sub(n, two))); // 2, or n when n is odd
    return concat([parts, div(n, parts), shapeOf(x, lead)], 0);
  });
  // the two split dims multiply to `rows` only at run time, where ORT checks the count
  const halves = g.addNode('Reshape', [x, split], [{ dtype: x.dtype, shape: [`parts(${rows})`, `(${rows})/parts`, ...x.shape.slice(lead)] }])[0]!;
  return reduceSum(reduceSum(halves, [1], false), [0], false);
}

export function reduceMean(x: Value, axes: number[], keepdims = true): Value {
  requireFloat('ReduceMean', x);
  const norm = axes.map((a) => normAxis(a, x.rank));
  return x.graph.addNode('ReduceMean', [x], [{ dtype: x.dtype, shape: reduceShape(x, norm, keepdims) }], {
    axes: ints(norm),
    keepdims: int(keepdims ? 1 : 0),
  })[0]!;
}

export function softmax(x: Value, axis = -1): Value {
  requireFloat('Softmax', x);
  return unary('Softmax', x, { axis: int(normAxis(axis, x.rank)) });
}

export function logSoftmax(x: Value, axis = -1): Value {
  requireFloat('LogSoftmax', x);
  return unary('LogSoftmax', x, { axis: int(normAxis(axis, x.rank)) });
}

/**
 * LayerNormalization over the last axis. Returns [y, mean, inv_std_dev]; the latter two (shape x with
 * the last dim 1) are what the backward pass needs.
 */
export function layerNorm(x: Value, scale: Value, bias: Value, eps: number): [Value, Value, Value] {
  const dtype = sameDtype('LayerNormalization', x, scale, bias);
  requireFloat('LayerNormalization', x);
  const h = x.shape[x.rank - 1]!;
  for (const p of [scale, bias]) {
    if (p.rank !== 1 || !dimEq(p.shape[0]!, h)) fail('LayerNormalization', `scale and bias must be [${h}]`, x, p);
  }
  const stats = [...x.shape.slice(0, -1), 1];
  const [y, mean, invStd] = x.graph.addNode(
    'LayerNormalization',
    [x, scale, bias],
    [{ dtype, shape: x.shape }, { dtype, shape: stats }, { dtype, shape: stats }],
    { axis: int(-1), epsilon: float(eps), stash_type: int(dtype === 'float64' ? 11 : 1) },
  );
  return [y!, mean!, invStd!];
}

/** Rows (or slices along `axis`) of `data` picked by integer `indices`: an embedding lookup. */
export function gather(data: Value, indices: Value, axis = 0): Value {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') fail('Gather', 'indices must be int64 or int32', indices);
  const a = normAxis(axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: int(a) })[0]!;
}

/** `data` with `updates` added at the index tuples in `indices` (ScatterND, reduction add). */
export function scatterNDAdd(data: Value, indices: Value, updates: Value): Value {
  sameDtype('ScatterND', data, updates);
  if (indices.dtype !== 'int64') fail('ScatterND', 'indices must be int64', indices);
  return data.graph.addNode('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], {
    reduction: str('add'),
  })[0]!;
}

/** x[start:end] along `axis`, with static bounds inside the dim. */
export function slice(x: Value, axis: number, start: number, end: number): Value {
  const a = normAxis(axis, x.rank);
  const d = x.shape[a]!;
  if (start < 0 || end <= start || (typeof d === 'number' && end > d)) fail('Slice', `bad range [${start}, ${end}) on axis ${a}`, x);
  const g = x.graph;
  const shape = x.shape.map((s, i) => (i === a ? end - start : s));
  return g.addNode('Slice', [x, g.ints([start]), g.ints([end]), g.ints([a])], [{ dtype: x.dtype, shape }])[0]!;
}

/** Zero-pads x along `axis` with `before` static elements and `after` (an int64 [1] runtime value) elements. */
export function padAxis(x: Value, axis: number, before: number, after: Value, outDim: Dim): Value {
  const g = x.graph;
  const a = normAxis(axis, x.rank);
  const zeros = (n: number) => g.ints(new Array<number>(n).fill(0));
  const parts: Value[] = [];
  if (a > 0) parts.push(zeros(a));
  parts.push(g.ints([before]));
  if (x.rank - a - 1 > 0) parts.push(zeros(x.rank - a - 1));
  if (a > 0) parts.push(zeros(a));
  parts.push(after);
  if (x.rank - a - 1 > 0) parts.push(zeros(x.rank - a - 1));
  const pads = concat(parts, 0);
  const shape = x.shape.map((s, i) => (i === a ? outDim : s));
  return g.addNode('Pad', [x, pads], [{ dtype: x.dtype, shape }], { mode: str('constant') })[0]!;
}

export function concat(values: Value[], axis: number): Value {
  const first = values[0]!;
  const dtype = sameDtype('Concat', ...values);
  const a = normAxis(axis, first.rank);
  let total: Dim = 0;
  for (const v of values) {
    if (v.rank !== first.rank || v.shape.some((d, i) => i !== a && !dimEq(d, first.shape[i]!))) {
      fail('Concat', `shapes differ off axis ${a}`, first, v);
    }
    const d = v.shape[a]!;
    total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`;
  }
  const shape = first.shape.map((s, i) => (i === a ? total : s));
  return first.graph.addNode('Concat', values, [{ dtype, shape }], { axis: int(a) })[0]!;
}

export function split(x: Value, axis: number, sizes: number[]): Value[] {
  const a = normAxis(axis, x.rank);
  const d = x.shape[a]!;
  const sum = sizes.reduce((s, n) => s + n, 0);
  if (typeof d === 'number' && d !== sum) fail('Split', `sizes [${sizes}] do not add up to ${d}`, x);
  const outs = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((s, i) => (i === a ? n : s)) }));
  return x.graph.addNode('Split', [x, x.graph.ints(sizes)], outs, { axis: int(a) });
}

export function where(cond: Value, a: Value | number, b: Value | number): Value {
  const av = typeof a === 'number' ? lift(a, b as Value) : a;
  const bv = typeof b === 'number' ? lift(b, av) : b;
  if (cond.dtype !== 'bool') fail('Where', 'condition must be bool', cond);
  const dtype = sameDtype('Where', av, bv);
  const shape = broadcastShapes(cond.shape, broadcastShapes(av.shape, bv.shape) ?? fail('Where', 'shapes do not broadcast', av, bv));
  if (!shape) fail('Where', 'condition does not broadcast', cond, av, bv);
  return cond.graph.addNode('Where', [cond, av, bv], [{ dtype, shape }])[0]!;
}

/**
 * Mean cross entropy of `logits` (N, C) against int64 `labels` (N), ignoring labels equal to
 * `ignoreIndex`. Returns [loss (scalar), log_prob (N, C)].
 */
export function softmaxCrossEntropy(logits: Value, labels: Value, ignoreIndex = -100): [Value, Value] {
  requireFloat('SoftmaxCrossEntropyLoss', logits);
  if (logits.rank !== 2 || labels.rank !== 1 || !dimEq(logits.shape[0]!, labels.shape[0]!)) {
    fail('SoftmaxCrossEntropyLoss', 'expects logits (N, C) and labels (N)', logits, labels);
  }
  if (labels.dtype !== 'int64') fail('SoftmaxCrossEntropyLoss', 'labels must be int64', labels);
  const [loss, logProb] = logits.graph.addNode(
    'SoftmaxCrossEntropyLoss',
    [logits, labels],
    [{ dtype: logits.dtype, shape: [] }, { dtype: logits.dtype, shape: logits.shape }],
    { ignore_index: int(ignoreIndex), reduction: str('mean') },
  );
  return [loss!, logProb!];
}

/** Index of the largest element along `axis` (int64; not differentiable). */
export function argMax(x: Value, axis = -1, keepdims = false): Value {
  const a = normAxis(axis, x.rank);
  const shape = x.shape.flatMap((d, i) => (i === a ? (keepdims ? [1] : []) : [d]));
  return x.graph.addNode('ArgMax', [x], [{ dtype: 'int64', shape }], { axis: int(a), keepdims: int(keepdims ? 1 : 0) })[0]!;
}

/** Dropout with a keep-mask made outside the graph (uint8, 1 = keep): the backward reuses the same mask. */
export function dropout(x: Value, keep: Value, p: number): Value {
  if (p === 0) return x;
  if (keep.dtype !== 'uint8') fail('Dropout', 'the keep-mask must be uint8 (1 = keep, 0 = drop)', keep);
  // x * (keep * scale): DequantizeLinear turns the mask's bytes into 0 or 1 / (1 - p) in one pass, and the
  // forward and the backward each multiply by that once. The same bits as x * scale * keep (a dropped
  // element may come out as -0), two passes fewer a site than scaling and casting the mask apart; ORT's
  // Where, the obvious alternative, runs on one thread at about a fifth of a Mul's speed.
  const factor = x.graph.addNode('DequantizeLinear', [keep, x.graph.scalar(1 / (1 - p), x.dtype)], [{ dtype: x.dtype, shape: keep.shape }]);
  return mul(x, factor[0]!);
}

/**
 * The GELU of BERT, x * Φ(x) with the exact erf, as one node (ORT's com.microsoft Gelu): its backward
 * needs only x, where the five-node composite would keep four (N, I) intermediates alive per layer.
 */
export function gelu(x: Value): Value {
  requireFloat('Gelu', x);
  return x.graph.addNode('Gelu', [x], [{ dtype: x.dtype, shape: x.shape }], {}, 'com.microsoft')[0]!;
}

export type { Node, Value };
