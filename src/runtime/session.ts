// The one module that talks to ONNX Runtime: compile a lowered graph once, run it many times with
// host typed arrays. Inputs are checked here, before ORT sees them, so errors name our values.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { BertError } from '../errors.ts';
import type { DType, HostData, Value } from '../graph/graph.ts';
import { lowerGraph, type LowerOptions } from '../graph/lower.ts';
import { bindShape, showShape } from '../graph/shape.ts';

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: HostData;
}

export interface SessionOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
  /** ORT graph optimisation level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** ORT's memory-pattern planner (faster, more memory for shapes that vary); default true. */
  memoryPattern?: boolean;
  /** ORT's CPU memory arena (faster reuse, but it keeps its peak); default true. */
  cpuArena?: boolean;
  /** Write an ORT profile (chrome trace JSON) with this file prefix. */
  profilePrefix?: string;
  /** Save the ONNX model ORT actually runs, after its optimisations, to this path. */
  optimizedModelPath?: string;
}

const TYPED: Record<DType, new (n: number) => HostData> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint8Array, // never fed from the host
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

export function hostTensor(dtype: DType, shape: number[], data?: HostData): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = data ?? new TYPED[dtype](n);
  if (d.length !== n) throw new BertError(`tensor of shape ${showShape(shape)} needs ${n} elements, got ${d.length}`);
  return { dtype, shape, data: d };
}

/** A graph compiled by ONNX Runtime. `run` takes inputs by name and returns outputs by name. */
export class CompiledGraph {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: Value[],
    readonly outputNames: string[],
    readonly modelBytes: number,
  ) {}

  static async compile(outputs: Record<string, Value>, opts: SessionOptions & { lower?: LowerOptions } = {}): Promise<CompiledGraph> {
    const lowered = lowerGraph(outputs, opts.lower);
    const session = await ort.InferenceSession.create(lowered.bytes, sessionOptions(opts));
    return new CompiledGraph(session, lowered.inputs, lowered.outputNames, lowered.bytes.byteLength);
  }

  /**
   * Runs the graph. Outputs named in `into` are written straight into those host buffers (no
   * allocation, no copy: how a training step returns 110M gradients); the rest are allocated.
   */
  async run(feeds: Record<string, HostTensor>, into: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    const bindings = new Map<string, number>();
    const known = new Set(this.inputs.map((v) => v.name));
    for (const name of Object.keys(feeds)) {
      if (!known.has(name)) {
        throw new BertError(`unknown input '${name}'; this graph takes: ${[...known].join(', ')}`);
      }
    }
    for (const v of this.inputs) {
      const t = feeds[v.name];
      if (!t) throw new BertError(`missing input '${v.name}' (${v.dtype}${showShape(v.shape)})`);
      if (t.dtype !== v.dtype) throw new BertError(`input '${v.name}' is ${t.dtype}, expected ${v.dtype}`);
      const problem = bindShape(v.shape, t.shape, bindings);
      if (problem) throw new BertError(`input '${v.name}' has shape ${showShape(t.shape)}: ${problem} (expected ${showShape(v.shape)})`);
      ortFeeds[v.name] = new ort.Tensor(t.dtype === 'float64' ? 'float64' : t.dtype, t.data as never, t.shape);
    }
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of this.outputNames) {
      const t = into[name];
      fetches[name] = t ? new ort.Tensor(t.dtype as 'float32', t.data as never, t.shape) : null;
    }
    const result = await this.session.run(ortFeeds, fetches);
    const out: Record<string, HostTensor> = {};
    for (const name of this.outputNames) {
      const t = result[name]!;
      out[name] = into[name] ?? { dtype: t.type as DType, shape: [...t.dims], data: t.data as HostData };
    }
    return out;
  }

  /** Ends profiling (when on); ORT writes the profile file named by `profilePrefix`. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function sessionOptions(opts: SessionOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    graphOptimizationLevel: opts.optimization ?? 'all',
    enableMemPattern: opts.memoryPattern ?? true,
    enableCpuMemArena: opts.cpuArena ?? true,
    logSeverityLevel: 3,
  };
  if (opts.profilePrefix) {
    o.enableProfiling = true;
    o.profileFilePrefix = opts.profilePrefix;
  }
  if (opts.optimizedModelPath) o.optimizedModelFilePath = opts.optimizedModelPath;
  return o;
}
