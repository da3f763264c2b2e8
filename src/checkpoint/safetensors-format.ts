import { BertError } from '../errors.ts';
import { oneLine } from '../io/json-text.ts';
import { littleEndian, numel, toFloat32, type FloatTensor, type StoredTensor } from './tensor.ts';

// The safetensors format (github.com/huggingface/safetensors): u64 little-endian N, then N bytes of
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the
// tensors' bytes, offsets relative to the end of the header, covering that region without holes.
// Bytes in, bytes out (the browser build uses it); safetensors.ts reads and writes files.

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, BOOL: 1, U8: 1 };
const MAX_HEADER = 100_000_000; // the reference implementation's own limit

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes; `where` names the file in errors. */
export function parseSafetensors(file: Uint8Array, where = 'safetensors'): SafetensorsFile {
  const fail = (why: string): never => {
    throw new BertError(`not a valid safetensors file: ${why}`, where);
  };
  if (file.byteLength < 8) fail(`only ${file.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, file.byteLength - 8))) {
    fail(`header length ${n} does not fit in the file (${file.byteLength} bytes)${n > BigInt(MAX_HEADER) ? ' (corrupt header)' : ' (truncated?)'}`);
  }
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not valid JSON: ${oneLine((err as Error).message)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = file.byteLength - dataStart;

  const entries: Array<{ name: string; dtype: string; shape: number[]; begin: number; end: number }> = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') fail(`entry "${name}" is not an object`);
    const { dtype, shape, data_offsets: offs } = e as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || BYTES[dtype] === undefined) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const want = numel(shape as number[]) * BYTES[dtype as string]!;
    if (end - begin !== want) fail(`tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${want} bytes, data_offsets give ${end - begin}`);
    entries.push({ name, dtype: dtype as string, shape: shape as number[], begin, end });
  }
  // The data region must be covered exactly: sorted by offset, each tensor starts where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin !== at) fail(`tensor "${e.name}" starts at byte ${e.begin}, expected ${at} (overlap or hole in the data)`);
    at = e.end;
  }
  if (at > dataLen) fail(`tensors need ${at} bytes of data but the file has ${dataLen} after the header (truncated)`);
  if (at < dataLen) fail(`${dataLen - at} bytes after the last tensor`);

  const tensors = new Map<string, StoredTensor>();
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const bytes = file.subarray(dataStart + e.begin, dataStart + e.end);
    const count = numel(e.shape);
    tensors.set(e.name, decode(e.dtype, e.shape, bytes, count));
  }
  return { tensors, metadata };
}

function decode(dtype: string, shape: number[], bytes: Uint8Array, count: number): StoredTensor {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
    case 'F64':
      return { dtype: 'float', shape, data: toFloat32(bytes, dtype, count) };
    case 'I64': {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) data[i] = v.getBigInt64(8 * i, true);
      return { dtype: 'int64', shape, data };
    }
    case 'I32': {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = v.getInt32(4 * i, true);
      return { dtype: 'int32', shape, data };
    }
    default: // BOOL, U8
      return { dtype: 'bool', shape, data: bytes.slice() };
  }
}

/** The header (length prefix included) and the data chunks of a safetensors file. */
export function encodeSafetensors(tensors: ReadonlyMap<string, FloatTensor>, metadata: Record<string, string> = { format: 'pt' }): { header: Uint8Array; chunks: Uint8Array[] } {
  const names = [...tensors.keys()].sort();
  const json: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as FloatTensor;
    if (t.data.length !== numel(t.shape)) {
      throw new BertError(`tensor "${name}" has ${t.data.length} values but shape ${JSON.stringify(t.shape)} needs ${numel(t.shape)}`);
    }
    const bytes = littleEndian ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : leBytes(t.data);
    json[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const utf8 = new TextEncoder();
  const text = JSON.stringify(json);
  const body = utf8.encode(text + ' '.repeat((8 - (utf8.encode(text).byteLength % 8)) % 8));
  const header = new Uint8Array(8 + body.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  header.set(body, 8);
  return { header, chunks };
}

function leBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i]!, true);
  return out;
}
