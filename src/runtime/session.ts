// Compiles a lowered graph once on an ONNX Runtime backend and runs it many times with host typed
// arrays. Inputs are checked here, before ORT sees them, so errors name our values. The backend is
// the module ./ort-node.ts (onnxruntime-node); browser bundles get ./ort-web.ts (package.json "browser").
import { BertError } from '../errors.ts';
import type { DType, HostData, Value } from '../graph/graph.ts';
import { lowerGraph, type LowerOptions } from '../graph/lower.ts';
import { bindShape, showShape } from '../graph/shape.ts';
import type { BackendSession, HostTensor, SessionOptions } from './backend.ts';
import { createSession } from './ort-node.ts';

export type { HostTensor, SessionOptions } from './backend.ts';

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
    private readonly session: BackendSession,
    readonly inputs: Value[],
    readonly outputNames: string[],
    readonly modelBytes: number,
  ) {}

  static async compile(outputs: Record<string, Value>, opts: SessionOptions & { lower?: LowerOptions } = {}): Promise<CompiledGraph> {
    const lowered = lowerGraph(outputs, opts.lower);
    const session = await createSession(lowered.bytes, opts);
    return new CompiledGraph(session, lowered.inputs, lowered.outputNames, lowered.bytes.byteLength);
  }

  /**
   * Runs the graph. Outputs named in `into` are written straight into those host buffers (how a
   * training step returns 110M gradients); the rest are allocated.
   */
  async run(feeds: Record<string, HostTensor>, into: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
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
    }
    return this.session.run(feeds, this.outputNames, into);
  }

  /** Ends profiling (when on); ORT writes the profile file named by `profilePrefix`. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
