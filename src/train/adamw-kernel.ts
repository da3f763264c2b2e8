// AdamW's per-element update as a WebAssembly SIMD kernel: four float32 lanes per instruction, every
// operation rounded to float32 as torch's own float32 kernels round it. JavaScript has no float32
// arithmetic (each step is a float64 operation plus a rounding), and its loop measured 1.9x a
// same-traffic copy on BERT-base; this kernel reads and writes each value once, four at a time.
//
// The moments live in the kernel's memory for good; a parameter and its gradient pass through a small
// scratch area in chunks. `adamwTensor` is the same arithmetic in JavaScript: the reference the kernel
// is tested against, and the path taken where WebAssembly SIMD is missing.

import { F32, get, I32, i32, instantiate, load, moduleBytes, set, simd, store, tee, V128, type WasmMemory } from './wasm.ts';

const fround = Math.fround;

/** The scalars of one update; each is used as the float32 nearest to it. */
export interface AdamWScalars {
  /** Multiplies the gradient first (the clipping factor; 1 for none). */
  gradScale: number;
  /** 1 - lr * weight_decay. */
  decay: number;
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  bc2Sqrt: number;
  eps: number;
  negStepSize: number;
}

/**
 * The update in JavaScript, float32 throughout, in torch's order (`_single_tensor_adamw`):
 *   g = g * scale;  p = p * decay;  m = m * b1 + g * c1;  v = v * b2 + (c2 * g) * g
 *   p = p + negStepSize * (m / (sqrt(v) / bc2Sqrt + eps))
 * The kernel computes exactly this, four lanes at a time.
 */
export function adamwTensor(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, s: AdamWScalars): void {
  const [scale, decay, b1, c1, b2, c2, bc2Sqrt, eps, negStepSize] = [s.gradScale, s.decay, s.b1, s.c1, s.b2, s.c2, s.bc2Sqrt, s.eps, s.negStepSize].map(fround) as [
    number, number, number, number, number, number, number, number, number,
  ];
  for (let i = 0; i < p.length; i++) {
    const gi = fround(g[i]! * scale);
    const pi = fround(p[i]! * decay);
    const mi = fround(fround(m[i]! * b1) + fround(gi * c1));
    const vi = fround(fround(v[i]! * b2) + fround(fround(c2 * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    p[i] = pi + fround(negStepSize * fround(mi / fround(fround(fround(Math.sqrt(vi)) / bc2Sqrt) + eps)));
  }
}

// The kernel, written out by hand (301 bytes with train/wasm.ts): one function
//   update(p, g, m, v, n, scale, decay, b1, c1, b2, c2, bc2Sqrt, eps, negStepSize)
// over n floats (a multiple of 4) at byte offsets p, g, m, v; p, m and v are updated in place.
const splat = simd(0x13); // f32x4.splat
const sqrt = simd(0xe3);
const add = simd(0xe4);
const mul = simd(0xe6);
const div = simd(0xe7);
// parameters 0..13, then locals: 14 end (i32); 15..23 the nine scalars splatted; 24 g, 25 m, 26 v
const [P, G, M, V, N, END, GI, MI, VI] = [0, 1, 2, 3, 4, 14, 24, 25, 26];
const S = (k: number) => 15 + k; // splat of scalar parameter 5 + k
const [SCALE, DECAY, B1, C1, B2, C2, BC2, EPS, NEG] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(S) as number[] as [
  number, number, number, number, number, number, number, number, number,
];
const advance = (i: number) => [...get(i), ...i32(16), 0x6a, ...set(i)]; // i += 16

function body(): number[] {
  const code: number[] = [];
  for (let k = 0; k < 9; k++) code.push(...get(5 + k), ...splat, ...set(S(k)));
  code.push(...get(N), ...i32(2), 0x74, ...get(P), 0x6a, ...set(END)); // end = p + n * 4
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(...get(P), ...get(END), 0x4f, 0x0d, 0x01); // if p >= end: break
  code.push(...get(G), ...load, ...get(SCALE), ...mul, ...set(GI));
  code.push(...get(M), ...get(M), ...load, ...get(B1), ...mul, ...get(GI), ...get(C1), ...mul, ...add, ...tee(MI), ...store);
  code.push(...get(V), ...get(V), ...load, ...get(B2), ...mul, ...get(C2), ...get(GI), ...mul, ...get(GI), ...mul, ...add, ...tee(VI), ...store);
  code.push(...get(P), ...get(P), ...load, ...get(DECAY), ...mul, ...get(NEG));
  code.push(...get(MI), ...get(VI), ...sqrt, ...get(BC2), ...div, ...get(EPS), ...add, ...div, ...mul, ...add, ...store);
  code.push(...advance(P), ...advance(G), ...advance(M), ...advance(V));
  code.push(0x0c, 0x00, 0x0b, 0x0b, 0x0b); // br loop; end loop; end block; end func
  return code;
}

const UPDATE = moduleBytes('update', [I32, I32, I32, I32, I32, ...Array<number>(9).fill(F32)], [[1, I32], [12, V128]], body());

type UpdateFn = (p: number, g: number, m: number, v: number, n: number, ...scalars: number[]) => void;

/** Floats of parameter and gradient staged per kernel call (64 KB each: they stay in L2). */
const CHUNK = 16384;

const roundUp4 = (n: number) => (n + 3) & ~3;

/**
 * The moments of tensors of the given sizes, in one WebAssembly memory, and the kernel that updates
 * them. `create` returns undefined where WebAssembly SIMD is missing or the moments would not fit
 * in 4 GB; the caller then keeps its moments in ordinary arrays and uses `adamwElement`.
 */
export class AdamWKernel {
  private constructor(
    private readonly memory: WasmMemory,
    private readonly update: UpdateFn,
    /** Byte offset of each tensor's m; its v follows it. */
    private readonly offsets: number[],
  ) {}

  static create(sizes: readonly number[]): AdamWKernel | undefined {
    const scratch = 2 * CHUNK * 4;
    const offsets: number[] = [];
    let bytes = scratch;
    for (const n of sizes) {
      offsets.push(bytes);
      bytes += 2 * roundUp4(n) * 4;
    }
    const wasm = instantiate<UpdateFn>(UPDATE, 'update', bytes);
    return wasm && new AdamWKernel(wasm.memory, wasm.fn, offsets);
  }

  /** Tensor k's first moment: a view into the kernel's memory. */
  m(k: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.offsets[k]!, n);
  }

  /** Tensor k's second moment: a view into the kernel's memory. */
  v(k: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.offsets[k]! + roundUp4(n) * 4, n);
  }

  /** Updates tensor k: `p` in place from `g`, its moments in the kernel's memory. */
  step(k: number, p: Float32Array, g: Float32Array, s: AdamWScalars): void {
    const buffer = this.memory.buffer;
    const scratchP = new Float32Array(buffer, 0, CHUNK);
    const scratchG = new Float32Array(buffer, CHUNK * 4, CHUNK);
    const mOffset = this.offsets[k]!;
    const vOffset = mOffset + roundUp4(p.length) * 4;
    const scalars = [s.gradScale, s.decay, s.b1, s.c1, s.b2, s.c2, s.bc2Sqrt, s.eps, s.negStepSize];
    for (let start = 0; start < p.length; start += CHUNK) {
      const n = Math.min(CHUNK, p.length - start);
      const lanes = roundUp4(n);
      scratchP.set(p.subarray(start, start + n));
      scratchG.set(g.subarray(start, start + n));
      // the padding lanes of a last partial chunk compute on zeros (finite) and are never read
      scratchP.fill(0, n, lanes);
      scratchG.fill(0, n, lanes);
      this.update(0, CHUNK * 4, mOffset + start * 4, vOffset + start * 4, lanes, ...scalars);
      p.set(scratchP.subarray(0, n), start);
    }
  }
}
