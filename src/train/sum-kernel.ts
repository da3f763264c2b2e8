// Gradient sums for micro-batch accumulation in WebAssembly SIMD: sum += g and sum /= k, four float32
// lanes per instruction. Each lane gives the bits the JavaScript loops give (`sum[i] += g[i]`,
// `sum[i] /= k`: a float64 sum or quotient of float32 values rounds to the same float32), at a
// fraction of their time: those loops are bound by V8's float32 <-> float64 conversions, not memory.
import { F32, get, I32, i32, instantiate, load, moduleBytes, set, simd, store, V128, type WasmMemory } from './wasm.ts';

// sum(dst, src, n, srcStep, by): for n floats (a multiple of 4) at dst, dst = (dst + src) / by; src
// advances srcStep bytes a vector (0 reads one vector again and again).
const [DST, SRC, N, STEP, BY, END, BYV] = [0, 1, 2, 3, 4, 5, 6];
const SUM = moduleBytes('sum', [I32, I32, I32, I32, F32], [[1, I32], [1, V128]], [
  ...get(BY), ...simd(0x13), ...set(BYV), // f32x4.splat
  ...get(N), ...i32(2), 0x74, ...get(DST), 0x6a, ...set(END), // end = dst + n * 4
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(DST), ...get(END), 0x4f, 0x0d, 0x01, // if dst >= end: break
  ...get(DST), ...get(DST), ...load, ...get(SRC), ...load, ...simd(0xe4), ...get(BYV), ...simd(0xe7), ...store, // (dst + src) / by
  ...get(DST), ...i32(16), 0x6a, ...set(DST),
  ...get(SRC), ...get(STEP), 0x6a, ...set(SRC),
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br loop; end loop; end block; end func
]);

/** Floats of gradient staged per kernel call (64 KB: it stays in L2). */
const CHUNK = 16384;
const roundUp4 = (n: number) => (n + 3) & ~3;

/**
 * Sums of tensors of the given sizes, in one WebAssembly memory. `create` returns undefined where
 * WebAssembly SIMD is missing or the sums would not fit in 4 GB.
 */
export class SumKernel {
  private constructor(
    private readonly memory: WasmMemory,
    private readonly sum: (dst: number, src: number, n: number, srcStep: number, by: number) => void,
    /** Byte offset of each tensor's sum. */
    private readonly offsets: number[],
  ) {}

  static create(sizes: readonly number[]): SumKernel | undefined {
    // the scratch chunk, then one vector of -0 (x + -0 is x for every x, -0 included)
    let bytes = CHUNK * 4 + 16;
    const offsets: number[] = [];
    for (const n of sizes) {
      offsets.push(bytes);
      bytes += roundUp4(n) * 4;
    }
    const wasm = instantiate<SumKernel['sum']>(SUM, 'sum', bytes);
    if (!wasm) return undefined;
    new Float32Array(wasm.memory.buffer, CHUNK * 4, 4).fill(-0);
    return new SumKernel(wasm.memory, wasm.fn, offsets);
  }

  /** Tensor k's sum: a view into the kernel's memory. */
  view(k: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.offsets[k]!, n);
  }

  /** sum_k += g. */
  add(k: number, g: Float32Array): void {
    const scratch = new Float32Array(this.memory.buffer, 0, CHUNK);
    for (let start = 0; start < g.length; start += CHUNK) {
      const n = Math.min(CHUNK, g.length - start);
      scratch.set(g.subarray(start, start + n));
      scratch.fill(0, n, roundUp4(n)); // padding lanes: their sums are never read
      this.sum(this.offsets[k]! + start * 4, 0, roundUp4(n), 16, 1);
    }
  }

  /** sum_k /= by, over its n values. */
  divide(k: number, n: number, by: number): void {
    this.sum(this.offsets[k]!, CHUNK * 4, roundUp4(n), 0, by);
  }
}
