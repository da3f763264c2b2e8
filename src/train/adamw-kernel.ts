// AdamW's per-element update as a WebAssembly SIMD kernel: four float32 lanes per instruction, every
// operation rounded to float32 as torch's own float32 kernels round it. JavaScript has no float32
// arithmetic (each step is a float64 operation plus a rounding), and its loop measured 1.9x a
// same-traffic copy on BERT-base; this kernel reads and writes each value once, four at a time.
//
// The moments live in the kernel's memory for good; a parameter and its gradient pass through a small
// scratch area in chunks. `adamwTensor` is the same arithmetic in JavaScript: the reference the kernel
// is tested against, and the path taken where WebAssembly SIMD is missing.

const fround = Math.fround;

// Node has WebAssembly; TypeScript declares it only in its DOM libraries, which this project leaves out.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

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

// The module, written out by hand (301 bytes): one imported memory and one function
//   update(p, g, m, v, n, scale, decay, b1, c1, b2, c2, bc2Sqrt, eps, negStepSize)
// over n floats (a multiple of 4) at byte offsets p, g, m, v; p, m and v are updated in place.
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const load = [0xfd, 0x00, 0x04, 0x00]; // v128.load align=16 offset=0
const store = [0xfd, 0x0b, 0x04, 0x00]; // v128.store
const splat = [0xfd, 0x13]; // f32x4.splat
const sqrt = [0xfd, 0xe3, 0x01];
const add = [0xfd, 0xe4, 0x01];
const mul = [0xfd, 0xe6, 0x01];
const div = [0xfd, 0xe7, 0x01];
// parameters 0..13, then locals: 14 end (i32); 15..23 the nine scalars splatted; 24 g, 25 m, 26 v
const [P, G, M, V, N, END, GI, MI, VI] = [0, 1, 2, 3, 4, 14, 24, 25, 26];
const S = (k: number) => 15 + k; // splat of scalar parameter 5 + k
const [SCALE, DECAY, B1, C1, B2, C2, BC2, EPS, NEG] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(S) as number[] as [
  number, number, number, number, number, number, number, number, number,
];
const advance = (i: number) => [...get(i), 0x41, 0x10, 0x6a, ...set(i)]; // i += 16

function body(): number[] {
  const code: number[] = [0x02, 0x01, I32, 0x0c, V128]; // locals: 1 i32, 12 v128
  for (let k = 0; k < 9; k++) code.push(...get(5 + k), ...splat, ...set(S(k)));
  code.push(...get(N), 0x41, 0x02, 0x74, ...get(P), 0x6a, ...set(END)); // end = p + n * 4
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

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function moduleBytes(): Uint8Array {
  const name = (s: string) => [s.length, ...Buffer.from(s)];
  const code = body();
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 14, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('update'), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(code.length), ...code]),
  ]);
}

type UpdateFn = (p: number, g: number, m: number, v: number, n: number, ...scalars: number[]) => void;

/** Floats of parameter and gradient staged per kernel call (64 KB each: they stay in L2). */
const CHUNK = 16384;
const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // a 32-bit WebAssembly memory

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
    if (bytes > MAX_BYTES) return undefined;
    try {
      const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } });
      return new AdamWKernel(memory, instance.exports.update as UpdateFn, offsets);
    } catch {
      return undefined; // no WebAssembly SIMD here
    }
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
