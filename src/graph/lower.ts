// Writes the part of a graph that computes the requested outputs as an ONNX model.
import { BertError } from '../errors.ts';
import { ancestors, type Value } from './graph.ts';
import { encodeModel, int, ints, ONNX_ELEM_TYPE, rawBytes, type OnnxGraph, type OnnxModelOptions, type OnnxNode, type OnnxTensor } from './onnx.ts';

export interface LoweredGraph {
  bytes: Uint8Array;
  /** The graph inputs the outputs depend on, in declaration order: what every run must feed. */
  inputs: Value[];
  outputNames: string[];
}

/** A rewrite of the ONNX graph after lowering, before encoding (int8 quantization, for one). */
export type OnnxPass = (g: OnnxGraph) => void;

export interface LowerOptions extends OnnxModelOptions {
  name?: string;
  /** Applied in order to the lowered graph; they may rewrite nodes, initializers and inputs. */
  passes?: OnnxPass[];
}

/** Lowers the nodes that `outputs` depend on; each output gets the name it has in `outputs`. */
export function lowerGraph(outputs: Record<string, Value>, opts: LowerOptions = {}): LoweredGraph {
  const values = Object.values(outputs);
  if (values.length === 0) throw new BertError('lowerGraph: no outputs requested');
  const g = values[0]!.graph;
  const nodes = ancestors(values);
  const used = new Set<Value>(values);
  for (const n of nodes) for (const i of n.inputs) used.add(i);
  const inputs = g.inputs.filter((v) => used.has(v));
  const constants = g.constants.filter((c) => used.has(c.value));

  const onnx: OnnxGraph = {
    name: opts.name ?? 'bert-ts',
    nodes: nodes.flatMap((n) => {
      const node = { opType: n.op, domain: n.domain, name: n.name, inputs: n.inputs.map((v) => v.name), outputs: n.outputs.map((v) => v.name), attrs: n.attrs };
      if (n.op === 'SoftmaxCrossEntropyLoss' && n.inputs[0]!.rank === 2) return softmaxCrossEntropy2d(node);
      if (n.outputs[0]!.dtype !== 'float64') return [node];
      if (n.op === 'LayerNormalization') return layerNormFloat64(node);
      if (n.op === 'Erf') return erfFloat64(node.inputs[0]!, node.outputs[0]!, node.name);
      if (n.op === 'Gelu') return geluFloat64(node);
      if (n.op === 'FusedMatMul') return fusedMatMulFloat64(node, n.inputs.map((v) => v.rank));
      if (n.op === 'DequantizeLinear') return dequantizeFloat64(node);
      return [node];
    }),
    inputs: inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: [],
    initializers: constants.map((c) => ({
      name: c.value.name,
      dtype: c.value.dtype,
      dims: c.value.shape as number[],
      raw: rawBytes(c.data),
    })),
  };
  for (const [name, v] of Object.entries(outputs)) {
    // An Identity per output lets one value be exposed under several names, or a graph input be an output.
    onnx.nodes.push({ opType: 'Identity', inputs: [v.name], outputs: [name], name: `output.${name}` });
    onnx.outputs.push({ name, dtype: v.dtype, shape: v.shape.map((d) => (typeof d === 'number' ? d : d.replace(/\W/g, '_'))) });
  }
  for (const i of onnx.inputs) i.shape = i.shape.map((d) => (typeof d === 'number' ? d : d.replace(/\W/g, '_')));
  if (onnx.nodes.some((n) => n.name?.endsWith('.pow2'))) onnx.initializers.push(scalarF64(`${LN64}.two`, 2));
  if (onnx.nodes.some((n) => n.name?.endsWith('.erf64'))) {
    onnx.initializers.push(...ERF_TAYLOR.map((c, k) => scalarF64(`${LN64}.erf_c${k}`, c)));
    onnx.initializers.push(scalarF64(`${LN64}.half`, 0.5), scalarF64(`${LN64}.one`, 1), scalarF64(`${LN64}.rsqrt2`, Math.SQRT1_2));
  }
  for (const pass of opts.passes ?? []) pass(onnx);
  const msOpset = onnx.nodes.some((n) => n.domain === 'com.microsoft') ? 1 : undefined;
  return { bytes: encodeModel(onnx, { ...opts, msOpset }), inputs, outputNames: Object.keys(outputs) };
}

const LN64 = 'layernorm_f64';

function scalarF64(name: string, x: number): OnnxTensor {
  return { name, dtype: 'float64', dims: [], raw: rawBytes(new Float64Array([x])) };
}

/**
 * ORT has no float64 LayerNormalization kernel; float64 graphs exist only to check gradients, so
 * there the op becomes its definition: mean, centred variance, 1/sqrt(var + eps), scale, shift.
 */
function layerNormFloat64(n: OnnxNode): OnnxNode[] {
  const [x, scale, bias] = n.inputs as [string, string, string];
  const [y, mean, invStd] = n.outputs as [string, string, string];
  const eps = (n.attrs?.epsilon as { value: number }).value;
  const p = n.name!;
  const axes = { axes: ints([-1]) };
  return [
    { opType: 'ReduceMean', inputs: [x], outputs: [mean], name: `${p}.mean`, attrs: axes },
    { opType: 'Sub', inputs: [x, mean], outputs: [`${p}.d`], name: `${p}.sub` },
    { opType: 'Pow', inputs: [`${p}.d`, `${LN64}.two`], outputs: [`${p}.d2`], name: `${p}.pow2` },
    { opType: 'ReduceMean', inputs: [`${p}.d2`], outputs: [`${p}.var`], name: `${p}.var`, attrs: axes },
    { opType: 'Constant', inputs: [], outputs: [`${p}.eps`], name: `${p}.epsc`, attrs: { value: { type: 'tensor', value: scalarF64('eps', eps) } } },
    { opType: 'Add', inputs: [`${p}.var`, `${p}.eps`], outputs: [`${p}.ve`], name: `${p}.addeps` },
    { opType: 'Sqrt', inputs: [`${p}.ve`], outputs: [`${p}.std`], name: `${p}.sqrt` },
    { opType: 'Reciprocal', inputs: [`${p}.std`], outputs: [invStd], name: `${p}.inv` },
    { opType: 'Mul', inputs: [`${p}.d`, invStd], outputs: [`${p}.xhat`], name: `${p}.norm` },
    { opType: 'Mul', inputs: [`${p}.xhat`, scale], outputs: [`${p}.scaled`], name: `${p}.scale` },
    { opType: 'Add', inputs: [`${p}.scaled`, bias], outputs: [y], name: `${p}.shift` },
  ];
}

/** ORT's FusedMatMul is float32 only: in float64 graphs (gradient checks) its transposes become nodes. */
function fusedMatMulFloat64(n: OnnxNode, ranks: number[]): OnnxNode[] {
  const p = n.name!;
  const pre: OnnxNode[] = [];
  const operand = (k: 0 | 1, flag: string): string => {
    const x = n.inputs[k]!;
    if ((n.attrs?.[flag] as { value: number } | undefined)?.value !== 1) return x;
    const r = ranks[k]!;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    pre.push({ opType: 'Transpose', inputs: [x], outputs: [`${p}.t${k}`], name: `${p}.transpose${k}`, attrs: { perm: ints(perm) } });
    return `${p}.t${k}`;
  };
  const a = operand(0, 'transA');
  const b = operand(1, 'transB');
  return [...pre, { opType: 'MatMul', inputs: [a, b], outputs: n.outputs, name: `${p}.matmul` }];
}

/** DequantizeLinear has no float64 output: in float64 graphs (gradient checks) it is Cast then Mul. */
function dequantizeFloat64(n: OnnxNode): OnnxNode[] {
  const [x, scale] = n.inputs as [string, string];
  const p = n.name!;
  return [
    { opType: 'Cast', inputs: [x], outputs: [`${p}.cast`], name: `${p}.cast`, attrs: { to: int(ONNX_ELEM_TYPE.float64) } },
    { opType: 'Mul', inputs: [`${p}.cast`, scale], outputs: n.outputs, name: `${p}.mul` },
  ];
}

/**
 * SoftmaxCrossEntropyLoss over (N, C) logits as its two halves, LogSoftmax over the last axis and
 * NegativeLogLikelihoodLoss. ORT expands the op by its ONNX function, whose LogSoftmax runs on an
 * (N, C, 1) view over axis 1: not the last axis, so ORT's kernel transposes in and out of it, two
 * extra passes over the MLM logits (15 ms of a mini pre-training step against 5). Same values.
 */
function softmaxCrossEntropy2d(n: OnnxNode): OnnxNode[] {
  const [logits, labels] = n.inputs as [string, string];
  const [loss, logProb] = n.outputs as [string, string | undefined];
  const p = n.name!;
  const lp = logProb ?? `${p}.log_prob`;
  const { reduction, ignore_index } = n.attrs ?? {};
  const nllAttrs = { ...(reduction ? { reduction } : {}), ...(ignore_index ? { ignore_index } : {}) };
  return [
    { opType: 'LogSoftmax', inputs: [logits], outputs: [lp], name: `${p}.log_softmax`, attrs: { axis: { type: 'int', value: 1 } } },
    { opType: 'NegativeLogLikelihoodLoss', inputs: [lp, labels], outputs: [loss], name: `${p}.nll`, attrs: nllAttrs },
  ];
}

/** Taylor coefficients of erf(x) / x in powers of x^2, 2/sqrt(pi) folded in: enough terms for |x| <= 3. */
const ERF_TAYLOR = Array.from({ length: 48 }, (_, n) => {
  let fact = 1;
  for (let k = 2; k <= n; k++) fact *= k;
  return ((n % 2 === 0 ? 1 : -1) * 2) / Math.sqrt(Math.PI) / fact / (2 * n + 1);
});

/**
 * ORT has no float64 Erf kernel. float64 graphs exist only for gradient checks, whose inputs stay
 * small, so Erf there is its Taylor series (Horner in x^2), accurate to ~1e-13 for |x| <= 3.
 */
function erfFloat64(x: string, y: string, p: string): OnnxNode[] {
  const nodes: OnnxNode[] = [{ opType: 'Mul', inputs: [x, x], outputs: [`${p}.x2`], name: `${p}.erf64` }];
  let acc = `${LN64}.erf_c${ERF_TAYLOR.length - 1}`;
  for (let k = ERF_TAYLOR.length - 2; k >= 0; k--) {
    nodes.push({ opType: 'Mul', inputs: [acc, `${p}.x2`], outputs: [`${p}.m${k}`], name: `${p}.m${k}` });
    nodes.push({ opType: 'Add', inputs: [`${p}.m${k}`, `${LN64}.erf_c${k}`], outputs: [`${p}.a${k}`], name: `${p}.a${k}` });
    acc = `${p}.a${k}`;
  }
  nodes.push({ opType: 'Mul', inputs: [acc, x], outputs: [y], name: `${p}.times_x` });
  return nodes;
}

/** Gelu in float64: x * 0.5 * (1 + erf(x / sqrt 2)), with the Erf above. */
function geluFloat64(n: OnnxNode): OnnxNode[] {
  const [x] = n.inputs as [string];
  const [y] = n.outputs as [string];
  const p = n.name!;
  return [
    { opType: 'Mul', inputs: [x, `${LN64}.rsqrt2`], outputs: [`${p}.xs`], name: `${p}.scale` },
    ...erfFloat64(`${p}.xs`, `${p}.erf`, `${p}.erf`),
    { opType: 'Add', inputs: [`${p}.erf`, `${LN64}.one`], outputs: [`${p}.cdf2`], name: `${p}.plus1` },
    { opType: 'Mul', inputs: [`${p}.cdf2`, `${LN64}.half`], outputs: [`${p}.cdf`], name: `${p}.half` },
    { opType: 'Mul', inputs: [x, `${p}.cdf`], outputs: [y], name: `${p}.out` },
  ];
}
