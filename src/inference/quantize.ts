// Dynamic int8 quantization of the weight matrices, as an ONNX pass (see lower.ts's `passes`): every
// dense layer `Gemm(x, W, b, transB=1)` whose W is an fp32 initializer becomes
//   DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q, x_zp, 0) -> Cast -> Mul(x_scale * w_scale) -> Add(b)
// with W_q int8, symmetric, one scale per output channel. Only standard ONNX operators, so the exported
// model runs anywhere ONNX does; ONNX Runtime fuses the chain into one DynamicQuantizeMatMul kernel.
// Activations are quantized per batch at run time (uint8, asymmetric), which is why no calibration is needed.
import type { OnnxGraph, OnnxNode, OnnxTensor } from '../graph/onnx.ts';
import { rawBytes } from '../graph/onnx.ts';

export interface QuantizedWeight {
  /** (in, out) row-major: MatMulInteger's B layout. */
  q: Int8Array;
  /** (out): w ≈ q * scale per output channel. */
  scale: Float32Array;
}

/** Symmetric per-output-channel int8 of a PyTorch-layout weight (out, in), transposed to (in, out). */
export function quantizeWeight(w: Float32Array, out: number, inp: number): QuantizedWeight {
  const q = new Int8Array(out * inp);
  const scale = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let max = 0;
    for (let i = 0; i < inp; i++) max = Math.max(max, Math.abs(w[o * inp + i]!));
    const s = max === 0 ? 1 : max / 127;
    scale[o] = s;
    for (let i = 0; i < inp; i++) q[i * out + o] = Math.max(-127, Math.min(127, Math.round(w[o * inp + i]! / s)));
  }
  return { q, scale };
}

function floatsOf(t: OnnxTensor): Float32Array {
  const copy = t.raw.slice(); // aligned copy: raw may be a view at any byte offset
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

const attrInt = (n: OnnxNode, key: string): number | undefined => {
  const a = n.attrs?.[key];
  return a?.type === 'int' ? a.value : undefined;
};

/** The pass: rewrites eligible Gemm nodes in place; initializers no node reads any more are dropped. */
export function quantizeDynamicInt8(g: OnnxGraph): void {
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const nodes: OnnxNode[] = [];
  for (const n of g.nodes) {
    const w = n.opType === 'Gemm' && !n.domain ? inits.get(n.inputs[1]!) : undefined;
    const eligible =
      w !== undefined && w.dtype === 'float32' && w.dims.length === 2 && attrInt(n, 'transB') === 1 && !attrInt(n, 'transA') && n.attrs?.alpha === undefined && n.attrs?.beta === undefined;
    if (!eligible) {
      nodes.push(n);
      continue;
    }
    const [out, inp] = w.dims as [number, number];
    const p = n.name ?? n.outputs[0]!;
    const wq = `${w.name}.int8`;
    if (!inits.has(wq)) {
      const { q, scale } = quantizeWeight(floatsOf(w), out, inp);
      const add = (t: OnnxTensor) => {
        inits.set(t.name, t);
        g.initializers.push(t);
      };
      add({ name: wq, dtype: 'int8', dims: [inp, out], raw: rawBytes(q) });
      add({ name: `${w.name}.scale`, dtype: 'float32', dims: [out], raw: rawBytes(scale) });
      add({ name: `${w.name}.zero_point`, dtype: 'int8', dims: [out], raw: new Uint8Array(out) });
    }
    const [x, , bias] = n.inputs as [string, string, string | undefined];
    const y = n.outputs[0]!;
    const scaled = bias === undefined ? y : `${p}.scaled`;
    nodes.push(
      { opType: 'DynamicQuantizeLinear', inputs: [x], outputs: [`${p}.x_q`, `${p}.x_scale`, `${p}.x_zp`], name: `${p}.quantize` },
      { opType: 'MatMulInteger', inputs: [`${p}.x_q`, wq, `${p}.x_zp`, `${w.name}.zero_point`], outputs: [`${p}.acc`], name: `${p}.matmul_int8` },
      { opType: 'Cast', inputs: [`${p}.acc`], outputs: [`${p}.acc_f`], name: `${p}.cast`, attrs: { to: { type: 'int', value: 1 } } },
      { opType: 'Mul', inputs: [`${p}.x_scale`, `${w.name}.scale`], outputs: [`${p}.scale`], name: `${p}.scale` },
      { opType: 'Mul', inputs: [`${p}.acc_f`, `${p}.scale`], outputs: [scaled], name: `${p}.dequantize` },
    );
    if (bias !== undefined) nodes.push({ opType: 'Add', inputs: [scaled, bias], outputs: [y], name: `${p}.bias` });
  }
  g.nodes = nodes;
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of g.outputs) read.add(o.name);
  g.initializers = g.initializers.filter((t) => read.has(t.name));
}
