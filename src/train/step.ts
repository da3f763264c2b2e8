// One training step as one ONNX graph: forward, loss, and the gradient of every parameter.
import { gradients } from '../graph/autodiff.ts';
import type { Value } from '../graph/graph.ts';
import { bindShape, resolveShape } from '../graph/shape.ts';
import type { DropoutSite, ModelContext } from '../model/bert.ts';
import { feedParams, type ParamTensor } from '../model/runner.ts';
import { CompiledGraph, type HostTensor, type SessionOptions } from '../runtime/session.ts';
import { DropoutMasks } from './dropout.ts';

export interface TrainGraph {
  ctx: ModelContext;
  /** The scalar to minimise. */
  loss: Value;
  /** Other outputs to report each step (per-task losses, logits for accuracy). */
  outputs: Record<string, Value>;
}

export interface StepResult {
  loss: number;
  outputs: Record<string, HostTensor>;
  /** Gradient of each parameter, by HF name; the buffers are overwritten by the next step. */
  grads: Map<string, Float32Array>;
}

export class TrainStep {
  /** Gradient buffers, reused every step: ORT writes into them directly. */
  private readonly grads = new Map<string, Float32Array>();

  private constructor(
    private readonly compiled: CompiledGraph,
    /** The parameters, as graph inputs; their order is the gradients' order. */
    private readonly paramInputs: readonly Value[],
    private readonly sites: readonly DropoutSite[],
    private readonly masks: DropoutMasks,
  ) {}

  static async compile(graph: TrainGraph, opts: SessionOptions & { seed: number }): Promise<TrainStep> {
    const names = [...graph.ctx.params.keys()];
    const params = names.map((n) => graph.ctx.params.get(n)!);
    const grads = gradients(graph.loss, params);
    const outputs: Record<string, Value> = { loss: graph.loss, ...graph.outputs };
    names.forEach((n, i) => (outputs[`grad:${n}`] = grads[i]!));
    // ORT's memory pattern plans one block for the whole step's peak: measured on a base step at batch
    // 32 x 128 it raised peak RSS from 5.8 GB to 8.7 GB and was no faster, so training runs without it.
    const compiled = await CompiledGraph.compile(outputs, { memoryPattern: false, ...opts });
    const sites = graph.ctx.dropouts.filter((s) => compiled.inputs.includes(s.mask));
    return new TrainStep(compiled, params, sites, new DropoutMasks(sites, opts.seed));
  }

  /** The parameters' names, in the gradients' order. */
  get paramNames(): string[] {
    return this.paramInputs.map((v) => v.name);
  }

  /** Runs forward + backward on `batch` with `params`; `step` picks the dropout masks. */
  async run(batch: Record<string, HostTensor>, params: ReadonlyMap<string, ParamTensor>, step: number): Promise<StepResult> {
    const feeds: Record<string, HostTensor> = { ...batch };
    const bindings = new Map<string, number>();
    for (const v of this.compiled.inputs) {
      const t = batch[v.name];
      if (t) bindShape(v.shape, t.shape, bindings);
    }
    Object.assign(feeds, this.masks.forStep(step, this.sites.map((s) => resolveShape(s.mask.shape, bindings))));
    feedParams(feeds, this.paramInputs, params);
    const into: Record<string, HostTensor> = {};
    for (const { name } of this.paramInputs) {
      const shape = params.get(name)!.shape;
      let buf = this.grads.get(name);
      if (!buf) this.grads.set(name, (buf = new Float32Array(shape.reduce((a, b) => a * b, 1))));
      into[`grad:${name}`] = { dtype: 'float32', shape, data: buf };
    }
    const out = await this.compiled.run(feeds, into);
    const outputs: Record<string, HostTensor> = {};
    for (const [k, t] of Object.entries(out)) if (!k.startsWith('grad:')) outputs[k] = t;
    return { loss: Number(out.loss!.data[0]), outputs, grads: this.grads };
  }

  /** Ends ORT profiling (when compiled with `profilePrefix`), writing the profile file. */
  endProfiling(): void {
    this.compiled.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.compiled.dispose();
  }
}
