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

export interface TrainStepOptions extends SessionOptions {
  seed: number;
  /**
   * The parameters to differentiate (default: all). The others are fed as constants and get no
   * gradient, so the graph leaves out the backward pass that only they would need.
   */
  trained?: (name: string) => boolean;
}

export class TrainStep {
  /** Gradient buffers, reused every step: ORT writes into them directly. */
  private readonly grads = new Map<string, Float32Array>();

  private constructor(
    private readonly compiled: CompiledGraph,
    /** The parameters, as graph inputs. */
    private readonly paramInputs: readonly Value[],
    /** The parameters with a gradient output, in the gradients' order. */
    private readonly trainedInputs: readonly Value[],
    private readonly sites: readonly DropoutSite[],
    private readonly masks: DropoutMasks,
  ) {}

  static async compile(graph: TrainGraph, opts: TrainStepOptions): Promise<TrainStep> {
    const params = [...graph.ctx.params.values()];
    const trained = params.filter((v) => opts.trained?.(v.name) ?? true);
    const grads = gradients(graph.loss, trained);
    const outputs: Record<string, Value> = { loss: graph.loss, ...graph.outputs };
    trained.forEach((v, i) => (outputs[`grad:${v.name}`] = grads[i]!));
    // ORT's memory pattern plans one block for the whole step's peak: measured on a base step at batch
    // 32 x 128 it raised peak RSS from 5.8 GB to 8.7 GB and was no faster, so training runs without it.
    const { seed, trained: _, ...session } = opts;
    const compiled = await CompiledGraph.compile(outputs, { memoryPattern: false, ...session });
    const sites = graph.ctx.dropouts.filter((s) => compiled.inputs.includes(s.mask));
    return new TrainStep(compiled, params, trained, sites, new DropoutMasks(sites, seed));
  }

  /** Runs forward + backward on `batch` with `params`; `step` picks the dropout masks. */
  async run(batch: Record<string, HostTensor>, params: ReadonlyMap<string, ParamTensor>, step: number): Promise<StepResult> {
    const feeds: Record<string, HostTensor> = { ...batch };
    const bindings = new Map<string, number>();
    for (const v of this.compiled.inputs) {
      const t = batch[v.name];
      if (t) bindShape(v.shape, t.shape, bindings);
    }
    const shapes = this.sites.map((s) => resolveShape(s.mask.shape, bindings));
    Object.assign(feeds, this.masks.forStep(step, shapes));
    feedParams(feeds, this.paramInputs, params);
    const into: Record<string, HostTensor> = {};
    for (const { name } of this.trainedInputs) {
      const shape = params.get(name)!.shape;
      let buf = this.grads.get(name);
      if (!buf) this.grads.set(name, (buf = new Float32Array(shape.reduce((a, b) => a * b, 1))));
      into[`grad:${name}`] = { dtype: 'float32', shape, data: buf };
    }
    // No host work overlaps the run: onnxruntime-node runs the graph on this thread (its promise only
    // defers the call to setImmediate), so the event loop is blocked until the step is done.
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
