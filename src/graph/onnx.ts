// Flat factories for ONNX's protobuf messages, after onnx's helper.py: values are referred to by name,
// the opset is pinned by the caller. Field numbers are those of onnx/onnx.proto.
import { ProtoWriter } from './protobuf.ts';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** TensorProto.DataType */
export const ONNX_ELEM_TYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export type Dim = number | string;

export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor };

export interface OnnxTensor {
  name: string;
  dtype: DType;
  dims: number[];
  /** Little-endian element bytes (TensorProto.raw_data). */
  raw: Uint8Array;
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export interface OnnxValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxTensor[];
}

export interface OnnxModelOptions {
  /** Default-domain opset; 17 is the first with LayerNormalization. */
  opset?: number;
  /** Import `com.microsoft` (ORT contrib ops) at this version. */
  msOpset?: number;
  producerName?: string;
  producerVersion?: string;
}

export const int = (value: number): AttrValue => ({ type: 'int', value });
export const float = (value: number): AttrValue => ({ type: 'float', value });
export const ints = (value: number[]): AttrValue => ({ type: 'ints', value });
export const floats = (value: number[]): AttrValue => ({ type: 'floats', value });
export const str = (value: string): AttrValue => ({ type: 'string', value });

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_ELEM_TYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function attributeProto(name: string, a: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.type) {
    case 'float':
      return w.float(2, a.value).int(20, 1);
    case 'int':
      return w.int(3, a.value).int(20, 2);
    case 'string':
      return w.string(4, a.value).int(20, 3);
    case 'tensor':
      return w.message(5, tensorProto(a.value)).int(20, 4);
    case 'floats':
      for (const v of a.value) w.float(7, v);
      return w.int(20, 6);
    case 'ints':
      for (const v of a.value) w.int(8, v);
      return w.int(20, 7);
  }
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attributeProto(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, ONNX_ELEM_TYPE[v.dtype]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** Serialises a graph to the bytes of an ONNX ModelProto. */
export function encodeModel(g: OnnxGraph, opts: OnnxModelOptions = {}): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, nodeProto(n));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  for (const v of g.inputs) graph.message(11, valueInfoProto(v));
  for (const v of g.outputs) graph.message(12, valueInfoProto(v));

  const model = new ProtoWriter()
    .int(1, 8) // ir_version 8 goes with opsets 17-18
    .string(2, opts.producerName ?? 'bert-ts')
    .string(3, opts.producerVersion ?? '0.1.0');
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').int(2, opts.opset ?? 17));
  if (opts.msOpset !== undefined) model.message(8, new ProtoWriter().string(1, 'com.microsoft').int(2, opts.msOpset));
  return model.finish();
}

/** Raw little-endian bytes of a typed array (a view, no copy). */
export function rawBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
