/** A float tensor as checkpoints hold it: row-major `data` of `shape`'s product. */
export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

/** What a checkpoint file may hold: float weights (any float dtype, converted to fp32) or integer buffers. */
export type StoredTensor =
  | { dtype: 'float'; shape: number[]; data: Float32Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

/** fp32 views straight into a file's bytes are only right on little-endian hosts (all Node targets in practice). */
export const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Little-endian IEEE half-precision bits to fp32 (subnormals, infinities and NaN included). */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// A 64k-entry table: fp16 checkpoints are converted with one lookup per element.
let f16Table: Float32Array | undefined;
function f16Lookup(): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32(i);
  }
  return f16Table;
}

/**
 * Reads `count` little-endian elements of `kind` starting at `bytes[0]` into a new Float32Array.
 * fp32 data that is 4-byte aligned is returned as a view, not a copy (the caller owns `bytes`).
 */
export function toFloat32(bytes: Uint8Array, kind: 'F32' | 'F16' | 'BF16' | 'F64', count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (kind) {
    case 'F32': {
      if (bytes.byteOffset % 4 === 0 && littleEndian) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F16': {
      const table = f16Lookup();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)]!;
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of an fp32: shift its bits into place (Uint32Array and Float32Array share
      // the host's byte order, so this holds on any host).
      const out = new Float32Array(count);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
  }
}
