// The sum of squares under the global gradient norm as a WebAssembly SIMD kernel. It keeps the four
// float64 partial sums of `globalGradNorm` (element i into sum i % 4, a tensor's last n % 4 elements
// into sum 0 after the rest) and makes the same float64 operations in the same order, two lanes per
// instruction, so the norm has the same bits. On a mini step's 11M floats the JavaScript loop took
// 10-15 ms (about 4 GB/s, bound by V8's float32 loads and conversions) and this 7-10 ms; over
// BERT-base's 110M both are bound by memory (44 against 37 ms), the chunks' staging costing most of the gain.
import { get, I32, i32, instantiate, load, moduleBytes, set, simd, store, tee, V128, type WasmMemory } from './wasm.ts';

// sumsq(src, n, acc): for the n floats (a multiple of 4) at byte offset src, adds element 4j + l's
// square to partial sum l; the sums are two float64x2 vectors at acc, (s0, s1) then (s2, s3).
const [SRC, N, ACC, END, VEC, LO, S01, S23] = [0, 1, 2, 3, 4, 5, 6, 7];
const promoteLow = simd(0x5f); // f64x2.promote_low_f32x4
const addF64 = simd(0xf0);
const mulF64 = simd(0xf2);
const highToLow = [...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]; // i8x16.shuffle
const promotedSquare = [...promoteLow, ...tee(LO), ...get(LO), ...mulF64]; // x -> float64 of lanes 0, 1, squared
const SUMSQ = moduleBytes('sumsq', [I32, I32, I32], [[1, I32], [4, V128]], [
  ...get(ACC), ...load, ...set(S01),
  ...get(ACC), ...i32(16), 0x6a, ...load, ...set(S23),
  ...get(N), ...i32(2), 0x74, ...get(SRC), 0x6a, ...set(END), // end = src + n * 4
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(SRC), ...get(END), 0x4f, 0x0d, 0x01, // if src >= end: break
  ...get(S01), ...get(SRC), ...load, ...tee(VEC), ...promotedSquare, ...addF64, ...set(S01), // s01 + lo(v)^2
  ...get(S23), ...get(VEC), ...get(VEC), ...highToLow, ...promotedSquare, ...addF64, ...set(S23), // s23 + hi(v)^2
  ...get(SRC), ...i32(16), 0x6a, ...set(SRC),
  0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop; end block
  ...get(ACC), ...get(S01), ...store,
  ...get(ACC), ...i32(16), 0x6a, ...get(S23), ...store,
  0x0b,
]);

/** Floats of gradient staged per kernel call (64 KB: they stay in L2). */
const CHUNK = 16384;

/** The global gradient norm's sums in WebAssembly; `create` returns undefined where SIMD is missing. */
export class GradNormKernel {
  private constructor(
    private readonly memory: WasmMemory,
    private readonly sumsq: (src: number, n: number, acc: number) => void,
  ) {}

  static create(): GradNormKernel | undefined {
    const wasm = instantiate<GradNormKernel['sumsq']>(SUMSQ, 'sumsq', CHUNK * 4 + 32);
    return wasm && new GradNormKernel(wasm.memory, wasm.fn);
  }

  /** sqrt of the sum of every gradient element's square, the bits of `globalGradNorm`. */
  norm(grads: Iterable<Float32Array>): number {
    const scratch = new Float32Array(this.memory.buffer, 0, CHUNK);
    const sums = new Float64Array(this.memory.buffer, CHUNK * 4, 4);
    let sum = 0;
    for (const g of grads) {
      sums.fill(0);
      const body = g.length & ~3;
      for (let start = 0; start < body; start += CHUNK) {
        const n = Math.min(CHUNK, body - start);
        scratch.set(g.subarray(start, start + n));
        this.sumsq(0, n, CHUNK * 4);
      }
      let s0 = sums[0]!;
      for (let i = body; i < g.length; i++) s0 += g[i]! * g[i]!;
      sum += s0 + sums[1]! + sums[2]! + sums[3]!;
    }
    return Math.sqrt(sum);
  }
}
