// Writes the part of a graph that computes the requested outputs as an ONNX model.
import { BertError } from '../errors.ts';
import { ancestors, type Value } from './graph.ts';
import { encodeModel, ints, rawBytes, type OnnxGraph, type OnnxModelOptions, type OnnxNode, type OnnxTensor } from './onnx.ts';

export interface LoweredGraph {
  bytes: Uint8Array;
  /** The graph inputs the outputs depend on, in declaration order: what every run must feed. */
  inputs: Value[];
  outputNames: string[];
}

/** Lowers the nodes that `outputs` depend on; each output gets the name it has in `outputs`. */
export function lowerGraph(outputs: Record<string, Value>, opts: OnnxModelOptions & { name?: string } = {}): LoweredGraph {
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
      return n.op === 'LayerNormalization' && n.outputs[0]!.dtype === 'float64' ? layerNormFloat64(node) : [node];
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
  const msOpset = nodes.some((n) => n.domain === 'com.microsoft') ? 1 : undefined;
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
