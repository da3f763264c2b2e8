// One training step as one ONNX graph: forward, loss, and the gradient of every parameter.
import { gradients } from '../graph/autodiff.ts';
import type { Value } from '../graph/graph.ts';
import { bindShape, resolveShape } from '../graph/shape.ts';
import type { DropoutSite, ModelContext } from '../model/bert.ts';
import { feedParams, type ParamTensor } from '../model/runner.ts';
import { CompiledGraph, type HostTensor, type SessionOptions } from '../runtime/session.ts';
import { BertError } from '../errors.ts';
import { DropoutMasks } from './dropout.ts';
import { microBatchGraph, microBatchName } from './micro-batch-graph.ts';

export interface TrainGraph {
  ctx: ModelContext;
  /** The scalar to minimise. */
  loss: Value;
  /** Other outputs to report each step (per-task losses, logits for accuracy). */
  outputs: Record<string, Value>;
}

/** What one micro-batch reports: its loss and the graph's other outputs. */
export interface MicroBatchResult {
  loss: number;
  outputs: Record<string, HostTensor>;
}

export interface StepResult extends MicroBatchResult {
  /** Gradient of each parameter, by HF name; the buffers are overwritten by the next step. */
  grads: Map<string, Float32Array>;
}

export interface MicroBatchesResult {
  /** Each micro-batch's result, in order. */
  results: MicroBatchResult[];
  /** The mean of their gradients, by HF name; the buffers are overwritten by the next run. */
  grads: Map<string, Float32Array>;
}

export interface TrainStepOptions extends SessionOptions {
  seed: number;
  /**
   * The parameters to differentiate (default: all). The others are fed as constants and get no
   * gradient, so the graph leaves out the backward pass that only they would need.
   */
  trained?: (name: string) => boolean;
  /**
   * Micro-batches per run (default 1). With K > 1 the graph holds K copies of the step and averages
   * their gradients itself (micro-batch-graph.ts); `runMicroBatches` then takes K batches at once.
   */
  microBatches?: number;
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
    /** The names of a micro-batch's outputs (the loss and the graph's other outputs). */
    private readonly reported: readonly string[],
    private readonly sites: readonly DropoutSite[],
    /** Each micro-batch's masks (one set per graph copy: they are all fed to one run). */
    private readonly masks: readonly DropoutMasks[],
  ) {}

  /** How many micro-batches one run takes. */
  get microBatches(): number {
    return this.masks.length;
  }

  static async compile(graph: TrainGraph, opts: TrainStepOptions): Promise<TrainStep> {
    const params = [...graph.ctx.params.values()];
    const trained = params.filter((v) => opts.trained?.(v.name) ?? true);
    const grads = gradients(graph.loss, trained);
    const step: Record<string, Value> = { loss: graph.loss, ...graph.outputs };
    const count = opts.microBatches ?? 1;
    let outputs: Record<string, Value>;
    if (count === 1) {
      outputs = { ...step };
      trained.forEach((v, i) => (outputs[`grad:${v.name}`] = grads[i]!));
    } else {
      outputs = microBatchGraph(step, new Map(trained.map((v, i) => [v.name, grads[i]!])), count);
    }
    // ORT's memory pattern plans one block for the whole step's peak: measured on a base step at batch
    // 32 x 128 it raised peak RSS from 5.8 GB to 8.7 GB and was no faster, so training runs without it.
    const { seed, trained: _, microBatches: __, ...session } = opts;
    const compiled = await CompiledGraph.compile(outputs, { memoryPattern: false, qdqRewrites: false, ...session });
    const fed = new Set(compiled.inputs.map((v) => v.name));
    const sites = graph.ctx.dropouts.filter((s) => fed.has(count === 1 ? s.mask.name : microBatchName(s.mask.name, 0)));
    const masks = Array.from({ length: count }, () => new DropoutMasks(sites, seed));
    return new TrainStep(compiled, params, trained, Object.keys(step), sites, masks);
  }

  /** Runs forward + backward on `batch` with `params`; `step` picks the dropout masks. */
  async run(batch: Record<string, HostTensor>, params: ReadonlyMap<string, ParamTensor>, step: number): Promise<StepResult> {
    const { results, grads } = await this.runMicroBatches([batch], params, step);
    return { ...results[0]!, grads };
  }

  /**
   * Runs forward + backward on `microBatches` batches in one graph run, micro-batch m with the dropout
   * masks of step `firstStep + m`, and returns each one's outputs and their mean gradient.
   */
  async runMicroBatches(batches: ReadonlyArray<Record<string, HostTensor>>, params: ReadonlyMap<string, ParamTensor>, firstStep: number): Promise<MicroBatchesResult> {
    const count = this.microBatches;
    if (batches.length !== count) throw new BertError(`this training step runs ${count} micro-batch(es) at once, got ${batches.length}`);
    const name = (n: string, m: number) => (count === 1 ? n : microBatchName(n, m));
    const feeds: Record<string, HostTensor> = {};
    batches.forEach((batch, m) => {
      for (const [n, t] of Object.entries(batch)) feeds[name(n, m)] = t;
      const bindings = new Map<string, number>();
      for (const v of this.compiled.inputs) {
        const t = feeds[v.name];
        if (t) bindShape(v.shape, t.shape, bindings);
      }
      const shapes = this.sites.map((s) => resolveShape(s.mask.shape, bindings));
      for (const [n, t] of Object.entries(this.masks[m]!.forStep(firstStep + m, shapes))) feeds[name(n, m)] = t;
    });
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
    const results = batches.map((_, m) => {
      const outputs: Record<string, HostTensor> = {};
      for (const k of this.reported) outputs[k] = out[name(k, m)]!;
      return { loss: Number(out[name('loss', m)]!.data[0]), outputs };
    });
    return { results, grads: this.grads };
  }

  /** Ends ORT profiling (when compiled with `profilePrefix`), writing the profile file. */
  endProfiling(): void {
    this.compiled.endProfiling();
  }

  async dispose(): Promise<void> {
    await this.compiled.dispose();
  }
}
