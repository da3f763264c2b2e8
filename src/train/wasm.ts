// Just enough of the WebAssembly binary format to write the small SIMD kernels of the training loop
// by hand (train/adamw-kernel.ts, sum-kernel.ts, grad-norm-kernel.ts, dropout.ts): one module, one
// imported memory `env.memory`, one exported function. Opcodes are from the WebAssembly 2.0 spec (SIMD: the 0xfd prefix).

// Node has WebAssembly; TypeScript declares it only in its DOM libraries, which this project leaves out.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const PAGE = 65536;
/** The most a 32-bit WebAssembly memory holds. */
export const MAX_MEMORY_BYTES = 65536 * PAGE;

export const get = (i: number): number[] => [0x20, i];
export const set = (i: number): number[] => [0x21, i];
export const tee = (i: number): number[] => [0x22, i];
export const i32 = (n: number): number[] => [0x41, ...sleb(n)];
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** v128.load / v128.store at the address on the stack (alignment hint 16, offset 0). */
export const load = [...simd(0x00), 0x04, 0x00];
export const store = [...simd(0x0b), 0x04, 0x00];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
// TextEncoder, not Buffer: these kernels also run in the browser build's worker.
const name = (s: string): number[] => {
  const bytes = new TextEncoder().encode(s);
  return [bytes.length, ...bytes];
};

/** A module exporting `fn` (parameter types, no result) with `locals` ([count, type] groups) and `code` (ending in `end`). */
export function moduleBytes(fn: string, params: number[], locals: Array<[number, number]>, code: number[]): Uint8Array {
  const body = [locals.length, ...locals.flatMap(([n, t]) => [...uleb(n), t]), ...code];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, params.length, ...params, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name(fn), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ]);
}

/**
 * Instantiates the module over a fresh memory of at least `bytes`, returning the memory and its
 * function; undefined where WebAssembly SIMD is missing or `bytes` is over 4 GB.
 */
export function instantiate<F>(bytes: Uint8Array, fn: string, memoryBytes: number): { memory: WasmMemory; fn: F } | undefined {
  if (memoryBytes > MAX_MEMORY_BYTES) return undefined;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(memoryBytes / PAGE)) });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return { memory, fn: instance.exports[fn] as F };
  } catch {
    return undefined;
  }
}
