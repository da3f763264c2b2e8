// Runs a model graph with its parameters fed from host tensors (HF names -> Float32Array).
import { BertError } from '../errors.ts';
import type { Value } from '../graph/graph.ts';
import { CompiledGraph, type HostTensor, type SessionOptions } from '../runtime/session.ts';
import type { ModelContext } from './bert.ts';

export interface ParamTensor {
  shape: number[];
  data: Float32Array;
}

export class ModelRunner {
  private constructor(
    readonly ctx: ModelContext,
    readonly compiled: CompiledGraph,
  ) {}

  /** Compiles the part of `ctx`'s graph that computes `outputs`. */
  static async create(ctx: ModelContext, outputs: Record<string, Value>, opts: SessionOptions = {}): Promise<ModelRunner> {
    return new ModelRunner(ctx, await CompiledGraph.compile(outputs, opts));
  }

  /** The parameters this graph reads, with their shapes. */
  paramShapes(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const v of this.compiled.inputs) if (this.ctx.graph.roles.get(v) === 'param') out.set(v.name, v.shape as number[]);
    return out;
  }

  async run(feeds: Record<string, HostTensor>, params: ReadonlyMap<string, ParamTensor>): Promise<Record<string, HostTensor>> {
    const all: Record<string, HostTensor> = { ...feeds };
    for (const v of this.compiled.inputs) {
      if (this.ctx.graph.roles.get(v) !== 'param') continue;
      const p = params.get(v.name);
      if (!p) throw new BertError(`missing parameter '${v.name}'`);
      if (p.shape.join() !== (v.shape as number[]).join()) {
        throw new BertError(`parameter '${v.name}' has shape [${p.shape}], the model expects [${v.shape}]`);
      }
      all[v.name] = { dtype: 'float32', shape: p.shape, data: p.data };
    }
    return this.compiled.run(all);
  }

  async dispose(): Promise<void> {
    await this.compiled.dispose();
  }
}
