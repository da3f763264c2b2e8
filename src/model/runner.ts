// Runs a model graph with its parameters fed from host tensors (HF names -> Float32Array).
import { BertError } from '../errors.ts';
import type { Value } from '../graph/graph.ts';
import { CompiledGraph, type HostTensor, type SessionOptions } from '../runtime/session.ts';
import type { ModelContext } from './bert.ts';

export interface ParamTensor {
  shape: number[];
  data: Float32Array;
}

/** `t` as the parameter `v` of a graph: an error naming it and both shapes when they differ. */
export function checkParam(v: Value, t: ParamTensor): ParamTensor {
  if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
    throw new BertError(`parameter '${v.name}' has shape [${t.shape}], the model expects [${v.shape}]`);
  }
  return t;
}

/**
 * The one way parameters enter a compiled graph: each of `wanted` (its parameter inputs) from `params`
 * by name into `feeds`, shape-checked; a parameter `params` lacks is an error naming it.
 */
export function feedParams(feeds: Record<string, HostTensor>, wanted: readonly Value[], params: ReadonlyMap<string, ParamTensor>): Record<string, HostTensor> {
  for (const v of wanted) {
    const p = params.get(v.name);
    if (!p) throw new BertError(`missing parameter '${v.name}'`);
    checkParam(v, p);
    feeds[v.name] = { dtype: 'float32', shape: p.shape, data: p.data };
  }
  return feeds;
}

export class ModelRunner {
  /** The parameters this graph reads. */
  private readonly paramInputs: Value[];

  private constructor(
    readonly ctx: ModelContext,
    readonly compiled: CompiledGraph,
  ) {
    this.paramInputs = compiled.inputs.filter((v) => ctx.graph.roles.get(v) === 'param');
  }

  /** Compiles the part of `ctx`'s graph that computes `outputs`. */
  static async create(ctx: ModelContext, outputs: Record<string, Value>, opts: SessionOptions = {}): Promise<ModelRunner> {
    return new ModelRunner(ctx, await CompiledGraph.compile(outputs, opts));
  }

  /** The parameters this graph reads, with their shapes. */
  paramShapes(): Map<string, number[]> {
    return new Map(this.paramInputs.map((v) => [v.name, v.shape as number[]]));
  }

  async run(feeds: Record<string, HostTensor>, params: ReadonlyMap<string, ParamTensor>): Promise<Record<string, HostTensor>> {
    return this.compiled.run(feedParams({ ...feeds }, this.paramInputs, params));
  }

  async dispose(): Promise<void> {
    await this.compiled.dispose();
  }
}
