// AdamW as torch.optim.AdamW computes it, gradient clipping as torch.nn.utils.clip_grad_norm_, and
// micro-batch gradient averaging. Parameters, gradients and moments are Float32Arrays updated in place.
import type { SafetensorsFile } from '../checkpoint/safetensors-format.ts';
import type { FloatTensor } from '../checkpoint/tensor.ts';
import { BertError } from '../errors.ts';
import { AdamWKernel, adamwTensor, type AdamWScalars } from './adamw-kernel.ts';
import { GradNormKernel } from './grad-norm-kernel.ts';
import { SumKernel } from './sum-kernel.ts';

const fround = Math.fround;

export interface AdamWOptions {
  /** (beta1, beta2); BERT uses (0.9, 0.999). */
  betas?: [number, number];
  /** Added to sqrt(v_hat); BERT uses 1e-6 (torch's default is 1e-8). */
  eps?: number;
  /** Decoupled weight decay, applied to the parameters `noDecay` does not exclude. */
  weightDecay?: number;
  /** Parameters that get no weight decay; defaults to BERT's rule, `bertNoDecay`. */
  noDecay?: (name: string) => boolean;
  /** Use the WebAssembly SIMD kernel where there is one (default); false: the JavaScript loop (same results). */
  simd?: boolean;
}

/** BERT's rule (and Hugging Face's run_mlm): no weight decay on biases and LayerNorm weights. */
export function bertNoDecay(name: string): boolean {
  return name.endsWith('.bias') || name.endsWith('LayerNorm.weight');
}

interface Slot {
  name: string;
  param: Float32Array;
  /** First moment, torch's `exp_avg`. */
  m: Float32Array;
  /** Second moment, torch's `exp_avg_sq`. */
  v: Float32Array;
  shape: number[];
  decay: boolean;
}

const STATE_FORMAT = 'bert-ts-adamw-1';

/**
 * AdamW with PyTorch's semantics (`_single_tensor_adamw`): per step t = t + 1, then
 *   p = p * (1 - lr * wd);  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * in float32 throughout, each operation rounded where torch's float32 kernels round it (torch may
 * fuse a multiply-add where we round twice: test/optimizer.test.ts finds at most 4 ulp from torch
 * 1.13 after 3 steps with clipping). The scalars are computed in float64 on the host, as torch does.
 * The per-element work runs in a WebAssembly SIMD kernel (train/adamw-kernel.ts) where there is one.
 */
export class AdamW {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly slots: Slot[];
  private readonly kernel: AdamWKernel | undefined;
  private readonly normKernel: GradNormKernel | undefined;
  private t = 0;

  /** `params`: the parameters it updates, by name. */
  constructor(readonly params: ReadonlyMap<string, FloatTensor>, opts: AdamWOptions = {}) {
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-6;
    this.weightDecay = opts.weightDecay ?? 0.01;
    const noDecay = opts.noDecay ?? bertNoDecay;
    const list = [...params];
    const kernel = opts.simd === false ? undefined : AdamWKernel.create(list.map(([, p]) => p.data.length));
    this.kernel = kernel;
    this.normKernel = opts.simd === false ? undefined : GradNormKernel.create();
    this.slots = list.map(([name, p], k) => ({
      name,
      param: p.data,
      m: kernel ? kernel.m(k, p.data.length) : new Float32Array(p.data.length),
      v: kernel ? kernel.v(k, p.data.length) : new Float32Array(p.data.length),
      shape: [...p.shape],
      decay: !noDecay(name),
    }));
  }

  /** Optimizer steps taken so far (torch's `state['step']`). */
  get stepCount(): number {
    return this.t;
  }

  /** Names of the parameters that get weight decay, in parameter order. */
  decayed(): string[] {
    return this.slots.filter((s) => s.decay).map((s) => s.name);
  }

  /** The global L2 norm of `grads`: the bits of `globalGradNorm`, in WebAssembly SIMD where there is one. */
  gradNorm(grads: Iterable<Float32Array>): number {
    return this.normKernel ? this.normKernel.norm(grads) : globalGradNorm(grads);
  }

  /**
   * One update of every parameter from `grads` (by name) at learning rate `lr`; no tensor-sized allocation. Each
   * gradient is read as float32(g * gradScale), exactly what clipping `grads` in place by that factor
   * would store, so `clipScale` can be applied here instead of in a pass of its own.
   */
  step(grads: ReadonlyMap<string, Float32Array>, lr: number, gradScale = 1): void {
    for (const s of this.slots) {
      const g = grads.get(s.name);
      if (g === undefined) throw new BertError(`AdamW.step: no gradient for parameter '${s.name}'`);
      if (g.length !== s.param.length) throw new BertError(`AdamW.step: gradient of '${s.name}' has ${g.length} values, the parameter ${s.param.length}`);
    }
    this.t += 1;
    const [beta1, beta2] = this.betas;
    const t = this.t;
    // Scalars as torch computes them: in float64 on the host, then cast to float32 by the kernels.
    const scalars: Omit<AdamWScalars, 'decay'> = {
      gradScale,
      b1: beta1,
      c1: 1 - beta1,
      b2: beta2,
      c2: 1 - beta2,
      bc2Sqrt: Math.sqrt(1 - beta2 ** t),
      eps: this.eps,
      negStepSize: -(lr / (1 - beta1 ** t)),
    };
    this.slots.forEach((s, k) => {
      const g = grads.get(s.name)!;
      const all = { ...scalars, decay: 1 - lr * (s.decay ? this.weightDecay : 0) };
      if (this.kernel) this.kernel.step(k, s.param, g, all);
      else adamwTensor(s.param, g, s.m, s.v, all);
    });
  }

  /** The moments as tensors `exp_avg.<name>` / `exp_avg_sq.<name>` (views, not copies). */
  stateTensors(): Map<string, FloatTensor> {
    const out = new Map<string, FloatTensor>();
    for (const s of this.slots) {
      out.set(`exp_avg.${s.name}`, { shape: s.shape, data: s.m });
      out.set(`exp_avg_sq.${s.name}`, { shape: s.shape, data: s.v });
    }
    return out;
  }

  /** Scalars that go with `stateTensors()`: safetensors metadata is string to string. */
  stateMetadata(): Record<string, string> {
    return {
      format: STATE_FORMAT,
      step: String(this.t),
      betas: JSON.stringify(this.betas),
      eps: String(this.eps),
      weight_decay: String(this.weightDecay),
    };
  }

  /**
   * Restores state saved from `stateTensors()` and `stateMetadata()` (optimizer-file.ts reads and
   * writes it); the parameters (names, shapes) must be the ones it was saved with. `path` names the file in errors.
   */
  restore(file: SafetensorsFile, path: string): void {
    const meta = file.metadata;
    if (meta.format !== STATE_FORMAT) throw new BertError(`not an AdamW state file (format ${JSON.stringify(meta.format)}, expected ${STATE_FORMAT})`, path);
    const t = Number(meta.step);
    if (!Number.isSafeInteger(t) || t < 0) throw new BertError(`bad step count ${JSON.stringify(meta.step)}`, path);
    const want = new Set(this.stateTensors().keys());
    for (const name of file.tensors.keys()) {
      if (!want.has(name)) throw new BertError(`optimizer state has '${name}', which is not a parameter of this model`, path);
    }
    const restored: Array<[Float32Array, Float32Array]> = [];
    for (const [name, mine] of this.stateTensors()) {
      const saved = file.tensors.get(name);
      if (saved === undefined) throw new BertError(`optimizer state lacks '${name}'`, path);
      if (saved.dtype !== 'float' || saved.data.length !== mine.data.length) {
        throw new BertError(`optimizer state '${name}' has shape ${JSON.stringify(saved.shape)}, the parameter ${JSON.stringify(mine.shape)}`, path);
      }
      restored.push([mine.data, saved.data]);
    }
    // Copy only once everything checked out, so a bad file leaves this optimizer as it was.
    for (const [into, from] of restored) into.set(from);
    this.t = t;
  }
}

/**
 * The L2 norm of all gradients together, as if one vector, summed in float64. Four partial sums: a
 * single running sum is bound by the latency of its additions (measured 2.9x slower on 11M floats).
 * `AdamW.gradNorm` computes the same bits in WebAssembly SIMD (train/grad-norm-kernel.ts).
 */
export function globalGradNorm(grads: Iterable<Float32Array>): number {
  let sum = 0;
  for (const g of grads) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n = g.length;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const a = g[i]!;
      const b = g[i + 1]!;
      const c = g[i + 2]!;
      const d = g[i + 3]!;
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; i < n; i++) s0 += g[i]! * g[i]!;
    sum += s0 + s1 + s2 + s3;
  }
  return Math.sqrt(sum);
}

/**
 * The factor torch.nn.utils.clip_grad_norm_ scales every gradient by for a global `norm`:
 * max_norm / (norm + 1e-6) in float32 where that is below 1, else 1 (also for a non-finite norm, which
 * leaves the gradients as they are; the caller decides whether to skip the step).
 */
export function clipScale(norm: number, maxNorm: number): number {
  const coef = fround(maxNorm / (norm + 1e-6));
  return coef < 1 ? coef : 1;
}

/**
 * Clips gradients in place as torch.nn.utils.clip_grad_norm_ does (L2 norm over all of them, as
 * if one vector): when max_norm / (norm + 1e-6) < 1 every gradient is scaled by it. Returns the
 * norm before clipping. (The training loops fold the scaling into AdamW.step instead.)
 */
export function clipGradNorm(grads: Iterable<Float32Array> | ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  const list = grads instanceof Map ? [...grads.values()] : [...(grads as Iterable<Float32Array>)];
  const norm = globalGradNorm(list);
  const coef = clipScale(norm, maxNorm);
  if (coef < 1) {
    for (const g of list) {
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
    }
  }
  return norm;
}

/**
 * Averages gradients over k micro-batches: `add` sums each micro-batch's gradients into its own
 * buffers (the caller's buffers may be overwritten by the next micro-batch), `average` divides by
 * k and returns those buffers; the next `add` starts a new sum.
 */
export class GradAccumulator {
  private readonly sums = new Map<string, Float32Array>();
  private readonly kernel: SumKernel | undefined;
  private k = 0;

  /** `simd: false` sums in JavaScript loops (the same bits, slower). */
  constructor(params: ReadonlyMap<string, FloatTensor>, opts: { simd?: boolean } = {}) {
    const list = [...params];
    this.kernel = opts.simd === false ? undefined : SumKernel.create(list.map(([, p]) => p.data.length));
    list.forEach(([name, p], j) => this.sums.set(name, this.kernel ? this.kernel.view(j, p.data.length) : new Float32Array(p.data.length)));
  }

  /** Micro-batches summed since the last `average`. */
  get count(): number {
    return this.k;
  }

  add(grads: ReadonlyMap<string, Float32Array>): void {
    for (const [name, sum] of this.sums) {
      const g = grads.get(name);
      if (g === undefined) throw new BertError(`GradAccumulator.add: no gradient for parameter '${name}'`);
      if (g.length !== sum.length) throw new BertError(`GradAccumulator.add: gradient of '${name}' has ${g.length} values, expected ${sum.length}`);
    }
    let j = 0;
    for (const [name, sum] of this.sums) {
      const g = grads.get(name)!;
      if (this.k === 0) sum.set(g);
      else if (this.kernel) this.kernel.add(j, g);
      else for (let i = 0; i < sum.length; i++) sum[i]! += g[i]!;
      j++;
    }
    this.k += 1;
  }

  /** The mean gradient of the micro-batches added since the last call. */
  average(): Map<string, Float32Array> {
    if (this.k === 0) throw new BertError('GradAccumulator.average: no micro-batch was added');
    const k = this.k;
    if (k > 1) {
      let j = 0;
      for (const sum of this.sums.values()) {
        if (this.kernel) this.kernel.divide(j, sum.length, k);
        else for (let i = 0; i < sum.length; i++) sum[i]! /= k;
        j++;
      }
    }
    this.k = 0;
    return this.sums;
  }
}
