// What CompiledGraph needs from an ONNX Runtime build: open a session on model bytes, run it. Each
// backend is one module: ort-node.ts (onnxruntime-node, the default) and ort-web.ts
// (onnxruntime-web, WASM), which bundlers put in ort-node.ts's place (package.json's "browser" field).
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { DType, HostData } from '../graph/graph.ts';

export interface SessionOptions {
  /** Intra-op threads; default: all cores (the browser: what the page is allowed). */
  threads?: number;
  /** ORT graph optimisation level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's memory-pattern planner (faster, more memory for shapes that vary); default true. */
  memoryPattern?: boolean;
  /** ORT's CPU memory arena (faster reuse, but it keeps its peak); default true. */
  cpuArena?: boolean;
  /**
   * ORT's QDQ graph rewrites; default true. Training turns them off: one of them gives every consumer of a
   * DequantizeLinear its own copy, and dropout's mask factor (graph/ops.ts) has two, forward and backward.
   */
  qdqRewrites?: boolean;
  /** Write an ORT profile (chrome trace JSON) with this file prefix (Node only). */
  profilePrefix?: string;
  /** Save the ONNX model ORT actually runs, after its optimisations, to this path (Node only). */
  optimizedModelPath?: string;
}

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: HostData;
}

/** One backend's session: feeds are host tensors already checked against the graph's inputs. */
export interface BackendSession {
  /**
   * Runs the model. Outputs named in `into` end up in those buffers (written in place where the
   * backend can, copied otherwise); the rest are returned as the backend allocated them.
   */
  run(feeds: Record<string, HostTensor>, outputNames: readonly string[], into: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  endProfiling(): void;
  release(): Promise<void>;
}

/** ORT's tensor of a host tensor (a view, no copy). */
export function toOrtTensor<T extends Tensor>(Ctor: new (type: Tensor.Type, data: never, dims: readonly number[]) => T, t: HostTensor): T {
  return new Ctor(t.dtype as Tensor.Type, t.data as never, t.shape);
}

/** A host tensor of ORT's output. */
export function fromOrtTensor(t: Tensor): HostTensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as HostData };
}

/** ORT session options common to every backend. */
export function commonOptions(opts: SessionOptions): InferenceSession.SessionOptions {
  return {
    interOpNumThreads: 1,
    graphOptimizationLevel: opts.optimization ?? 'all',
    enableMemPattern: opts.memoryPattern ?? true,
    enableCpuMemArena: opts.cpuArena ?? true,
    logSeverityLevel: 3,
    ...(opts.qdqRewrites === false ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
  };
}
