// Dropout keep-masks, made on the host. A mask is a pure function of (seed, step, site): no generator
// state to save, so a resumed run draws exactly the masks the uninterrupted run would have, and the
// backward pass reuses the forward's mask because both read the same graph input. This costs a
// fraction of ORT's RandomUniform-based Dropout (one 32-bit hash gives two 16-bit uniforms), and less
// again in the WebAssembly SIMD kernel below, which makes the same bytes.
import type { DropoutSite } from '../model/bert.ts';
import type { HostTensor } from '../runtime/session.ts';
import { get, I32, i32, instantiate, moduleBytes, set, simd, store, tee, V128, type WasmMemory } from './wasm.ts';

/** lowbias32 (Wellons): a fast 32-bit integer hash with good avalanche. */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const GOLDEN = 0x9e3779b9;

/** The stream key of (seed, step, site). */
function streamKey(seed: number, step: number, site: number): number {
  return hash32(hash32(hash32(seed >>> 0) ^ (step >>> 0)) ^ Math.imul(site + 1, GOLDEN));
}

/** Fills `out` with keep (1) / drop (0) at rate `p`, from the stream named by (seed, step, site). */
export function fillKeepMask(out: Uint8Array, p: number, seed: number, step: number, site: number): void {
  fillFrom(out, 0, Math.round(p * 65536), streamKey(seed, step, site));
}

/** Entries from 2 * c0 on: hash c gives entries 2c (its low 16 bits) and 2c + 1 (its high 16 bits). */
function fillFrom(out: Uint8Array, c0: number, threshold: number, key: number): void {
  // drop when a 16-bit uniform < threshold
  const n = out.length;
  let i = 2 * c0;
  for (let c = c0; i + 1 < n; c++, i += 2) {
    const r = hash32(((key + Math.imul(c, GOLDEN)) >>> 0) ^ c);
    out[i] = (r & 0xffff) >= threshold ? 1 : 0;
    out[i + 1] = r >>> 16 >= threshold ? 1 : 0;
  }
  if (i < n) out[i] = (hash32(key ^ 0xdeadbeef ^ i) & 0xffff) >= threshold ? 1 : 0;
}

// The same stream as a WebAssembly SIMD kernel, four hashes a vector, 16 mask bytes a store:
//   fill(out, groups, key, c0, threshold) writes 16 * groups bytes at `out`, hashes c0, c0 + 1, ...
const I32X4_SPLAT = simd(0x11);
const I16X8_SPLAT = simd(0x10);
const I32X4_ADD = simd(0xae);
const I32X4_MUL = simd(0xb5);
const I32X4_SHR_U = simd(0xad);
const XOR = simd(0x51);
const AND = simd(0x4e);
const I16X8_GE_U = simd(0x36);
const NARROW_U = simd(0x66); // i8x16.narrow_i16x8_u
// parameters 0..4, then locals: 5 end (i32); 6 c (four counters), 7..13 splats, 14 x
const [OUT, GROUPS, KEY, C0, THRESHOLD, END, C, KEYV, GOLDENV, M1, M2, THRV, ONE, FOUR, X] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const splatI32 = (value: number, into: number) => [...i32(value | 0), ...I32X4_SPLAT, ...set(into)];
const xorShift = (bits: number) => [...tee(X), ...get(X), ...i32(bits), ...I32X4_SHR_U, ...XOR];
/** keep (1) / drop (0) as eight 16-bit lanes for the four hashes c..c+3, then c += 4. */
const keepLanes = [
  ...get(KEYV), ...get(C), ...get(GOLDENV), ...I32X4_MUL, ...I32X4_ADD, ...get(C), ...XOR,
  ...xorShift(16), ...get(M1), ...I32X4_MUL, ...xorShift(15), ...get(M2), ...I32X4_MUL, ...xorShift(16),
  ...get(THRV), ...I16X8_GE_U, ...get(ONE), ...AND,
  ...get(C), ...get(FOUR), ...I32X4_ADD, ...set(C),
];
const FILL = moduleBytes('fill', [I32, I32, I32, I32, I32], [[1, I32], [9, V128]], [
  ...get(KEY), ...I32X4_SPLAT, ...set(KEYV),
  ...splatI32(GOLDEN, GOLDENV), ...splatI32(0x7feb352d, M1), ...splatI32(0x846ca68b, M2), ...splatI32(4, FOUR),
  ...get(THRESHOLD), ...I16X8_SPLAT, ...set(THRV), ...i32(1), ...I16X8_SPLAT, ...set(ONE),
  ...get(C0), ...I32X4_SPLAT, ...simd(0x0c), ...[0, 1, 2, 3].flatMap((k) => [k, 0, 0, 0]), ...I32X4_ADD, ...set(C), // c0 + [0, 1, 2, 3]
  ...get(GROUPS), ...i32(4), 0x74, ...get(OUT), 0x6a, ...set(END), // end = out + 16 * groups
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(OUT), ...get(END), 0x4f, 0x0d, 0x01, // if out >= end: break
  ...get(OUT), ...keepLanes, ...keepLanes, ...NARROW_U, ...store,
  ...get(OUT), ...i32(16), 0x6a, ...set(OUT),
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br loop; end loop; end block; end func
]);
const FILL_BYTES = 65536; // mask bytes per kernel call

/** fillKeepMask's stream, 16 entries at a time in WebAssembly SIMD; the same bytes. */
class KeepMaskKernel {
  private constructor(
    private readonly memory: WasmMemory,
    private readonly fill: (out: number, groups: number, key: number, c0: number, threshold: number) => void,
  ) {}

  static create(): KeepMaskKernel | undefined {
    const wasm = instantiate<KeepMaskKernel['fill']>(FILL, 'fill', FILL_BYTES);
    return wasm && new KeepMaskKernel(wasm.memory, wasm.fn);
  }

  fillKeepMask(out: Uint8Array, p: number, seed: number, step: number, site: number): void {
    const threshold = Math.round(p * 65536);
    const key = streamKey(seed, step, site);
    if (threshold <= 0 || threshold >= 65536) return fillFrom(out, 0, threshold, key);
    const scratch = new Uint8Array(this.memory.buffer, 0, FILL_BYTES);
    const whole = out.length - (out.length % 16);
    for (let start = 0; start < whole; start += FILL_BYTES) {
      const bytes = Math.min(FILL_BYTES, whole - start);
      this.fill(0, bytes / 16, key, start / 2, threshold);
      out.set(bytes === FILL_BYTES ? scratch : scratch.subarray(0, bytes), start);
    }
    fillFrom(out, whole / 2, threshold, key);
  }
}

/**
 * Keep-masks for every dropout site of a graph, for one step. `shapes` gives each site's concrete
 * shape (its symbolic shape resolved against the batch). The buffers are reused: a step's masks are
 * overwritten by the next `forStep`.
 */
export class DropoutMasks {
  private feeds: Record<string, HostTensor> = {};
  private readonly kernel = KeepMaskKernel.create();

  constructor(
    private readonly sites: readonly DropoutSite[],
    private readonly seed: number,
  ) {}

  forStep(step: number, shapes: readonly number[][]): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    this.sites.forEach((site, k) => {
      const shape = shapes[k]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const prev = this.feeds[site.mask.name]?.data;
      const buf = prev instanceof Uint8Array && prev.length === n ? prev : new Uint8Array(n);
      if (this.kernel) this.kernel.fillKeepMask(buf, site.p, this.seed, step, k);
      else fillKeepMask(buf, site.p, this.seed, step, k);
      feeds[site.mask.name] = { dtype: site.mask.dtype, shape, data: buf };
    });
    this.feeds = feeds;
    return feeds;
  }
}
