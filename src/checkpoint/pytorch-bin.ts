import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { numel, toFloat32, type StoredTensor } from './tensor.ts';
import { listZip, readZipEntry } from './zip.ts';

// torch.save's zip format: `<archive>/data.pkl` is a pickle of the state dict in which each tensor is
// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` and each storage is a
// persistent id ('storage', torch.FloatStorage, key, location, numel) naming `<archive>/data/<key>`.
// Python's unpickler would import and call whatever the pickle names; this one knows a fixed set of
// names, builds tensors itself, and refuses any other name before anything happens.

type StorageKind = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'BOOL';
const STORAGES: Record<string, StorageKind> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  BoolStorage: 'BOOL',
  ByteStorage: 'BOOL',
};
// Newer pickles may name a dtype instead of a storage class.
const DTYPES: Record<string, StorageKind> = {
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  double: 'F64',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  bool: 'BOOL',
  uint8: 'BOOL',
};
const ELEMENT_BYTES: Record<StorageKind, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, BOOL: 1 };

const ALLOWED_CALLS = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

class PyGlobal {
  constructor(readonly name: string) {}
}
class PyDict {
  readonly items = new Map<unknown, unknown>();
}
class Storage {
  constructor(
    readonly kind: StorageKind,
    readonly bytes: Uint8Array,
  ) {}
}
class Tensor {
  constructor(readonly value: StoredTensor) {}
}

/** Reads a `pytorch_model.bin` written by torch.save (zip format) into named tensors; floats become fp32. */
export function readPytorchBin(path: string): Map<string, StoredTensor> {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (err) {
    throw new BertError(`cannot read PyTorch checkpoint: ${(err as Error).message}`, path);
  }
  return parsePytorchBin(file, path);
}

export function parsePytorchBin(file: Uint8Array, where = 'pytorch_model.bin'): Map<string, StoredTensor> {
  const isZip = file.byteLength >= 4 && file[0] === 0x50 && file[1] === 0x4b && file[2] === 0x03 && file[3] === 0x04;
  if (!isZip) {
    if (file[0] === 0x80) {
      throw new BertError('this is the legacy (pre-1.6) torch.save format, which is not supported; re-save it with a current PyTorch: torch.save(torch.load(f), f)', where);
    }
    throw new BertError('not a PyTorch checkpoint (expected a torch.save zip archive)', where);
  }
  const entries = listZip(file, where);
  const pkl = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkl === undefined) throw new BertError('zip archive has no data.pkl: not a torch.save file', where);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  // Each storage is read once however often the pickle names it, and the tensors built from them may
  // hold at most a few times their elements (tied weights share one): a pickle that names a storage
  // a million times costs no more than the storage.
  const storages = new Map<string, Storage>();
  let storageElements = 0;
  let tensorElements = 0;
  const loadStorage = (kind: StorageKind, key: string, count: number): Storage => {
    const seen = storages.get(key);
    if (seen !== undefined) return seen;
    const entry = entries.get(`${prefix}data/${key}`);
    if (entry === undefined) throw new BertError(`storage ${key} is missing from the archive`, where);
    const need = count * ELEMENT_BYTES[kind];
    const bytes = readZipEntry(file, entry, where, need);
    if (bytes.byteLength < need) throw new BertError(`storage ${key} has ${bytes.byteLength} bytes, needs ${need}`, where);
    const storage = new Storage(kind, bytes);
    storages.set(key, storage);
    storageElements += count;
    return storage;
  };
  const budget = (n: number): void => {
    tensorElements += n;
    if (tensorElements > TENSOR_ELEMENTS_PER_STORAGE_ELEMENT * storageElements + (1 << 20)) {
      throw new BertError(`the pickle builds tensors of ${tensorElements} elements from storages of ${storageElements}, over the limit of ${TENSOR_ELEMENTS_PER_STORAGE_ELEMENT}x`, where);
    }
  };
  const pklEntry = entries.get(pkl)!;
  const root = unpickle(readZipEntry(file, pklEntry, where, LIMITS.pickleBytes), loadStorage, budget, where);
  if (!(root instanceof PyDict)) throw new BertError('data.pkl does not hold a state dict', where);
  const out = new Map<string, StoredTensor>();
  for (const [k, v] of root.items) {
    if (typeof k !== 'string' || !(v instanceof Tensor)) throw new BertError(`state dict entry ${describe(k)} is not a tensor (${describe(v)})`, where);
    out.set(k, v.value);
  }
  return out;
}

const TENSOR_ELEMENTS_PER_STORAGE_ELEMENT = 4;

/** A short name for a pickled value in an error message; never walks into it. */
function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 80 ? `${x.slice(0, 80)}...` : x);
  if (Array.isArray(x)) return `a tuple of ${x.length}`;
  if (x instanceof PyDict) return 'a dict';
  if (x instanceof Tensor) return 'a tensor';
  if (x instanceof PyGlobal) return x.name;
  return x === null ? 'None' : typeof x;
}

/**
 * The restricted unpickler: the opcodes torch.save emits (protocols 2 to 4), no imports, no calls.
 * A loop over opcodes with its own stack, never recursion; the stack, the memo, the marks and the
 * nesting of containers are bounded (LIMITS.pickle*), so no pickle can exhaust the JS stack or memory.
 */
function unpickle(
  data: Uint8Array,
  loadStorage: (kind: StorageKind, key: string, count: number) => Storage,
  budget: (elements: number) => void,
  where: string,
): unknown {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  // Nesting depth of each container built so far (scalars are 0). A container that gains a child
  // later (APPEND, SETITEM) is deepened; containers already holding it are not, which is enough to
  // bound what is built one opcode at a time, since every value we read is walked without recursion.
  const depths = new WeakMap<object, number>();
  const depthOf = (x: unknown): number => (x !== null && typeof x === 'object' ? (depths.get(x) ?? 1) : 0);
  let p = 0;
  const fail = (why: string): never => {
    throw new BertError(`cannot read data.pkl at byte ${p}: ${why}`, where);
  };
  const nest = (container: object, children: readonly unknown[]): void => {
    let d = depths.get(container) ?? 1;
    for (const c of children) d = Math.max(d, depthOf(c) + 1);
    if (d > LIMITS.pickleDepth) fail(`values nest deeper than the limit of ${LIMITS.pickleDepth}`);
    depths.set(container, d);
  };
  const push = (x: unknown): void => {
    if (stack.length >= LIMITS.pickleStack) fail(`more than ${LIMITS.pickleStack} values on the stack (the limit)`);
    stack.push(x);
  };
  const tuple = (items: unknown[]): unknown[] => {
    nest(items, items);
    return items;
  };
  const top = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack[stack.length - 1]);
  const remember = (key: number): void => {
    if (memo.size >= LIMITS.pickleStack && !memo.has(key)) fail(`more than ${LIMITS.pickleStack} memo entries (the limit)`);
    memo.set(key, top());
  };
  const need = (n: number): number => {
    // BINSTRING's length is signed: a negative one would move the reader backwards.
    if (n < 0) fail(`negative length ${n}`);
    if (p + n > data.byteLength) fail('pickle is truncated');
    const at = p;
    p += n;
    return at;
  };
  const pop = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack.pop());
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no mark');
    return stack.splice(m as number);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) fail('unterminated line');
    const s = latin1.decode(data.subarray(p, end));
    p = end + 1;
    return s;
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    const allowed = ALLOWED_CALLS.has(full) || (module === 'torch' && (name in STORAGES || name in DTYPES));
    if (!allowed) {
      throw new BertError(`refusing to load: the pickle asks for global ${full}, and a checkpoint may only hold tensors (nothing was executed)`, where);
    }
    return new PyGlobal(full);
  };
  const setItems = (dict: unknown, kv: unknown[]): void => {
    if (!(dict instanceof PyDict)) fail('SETITEM on a non-dict');
    nest(dict as PyDict, kv);
    for (let i = 0; i + 1 < kv.length; i += 2) (dict as PyDict).items.set(kv[i], kv[i + 1]);
  };
  const append = (list: unknown, xs: unknown[]): void => {
    if (!Array.isArray(list)) fail('APPEND to a non-list');
    nest(list as unknown[], xs);
    for (const x of xs) (list as unknown[]).push(x);
  };
  const str = (n: number, dec: { decode(b: Uint8Array): string }): string => dec.decode(data.subarray(need(n), p));

  for (;;) {
    const op = data[need(1)]!;
    switch (op) {
      case 0x80: // PROTO
        need(1);
        break;
      case 0x95: // FRAME: a length hint, the frame's bytes follow inline
        need(8);
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        if (marks.length >= LIMITS.pickleDepth) fail(`marks nest deeper than the limit of ${LIMITS.pickleDepth}`);
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x58: // BINUNICODE
        push(str(v.getUint32(need(4), true), utf8));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(str(data[need(1)]!, utf8));
        break;
      case 0x54: // BINSTRING
        push(str(v.getInt32(need(4), true), latin1));
        break;
      case 0x55: // SHORT_BINSTRING
        push(str(data[need(1)]!, latin1));
        break;
      case 0x4a: // BININT
        push(v.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(data[need(1)]);
        break;
      case 0x4d: // BININT2
        push(v.getUint16(need(2), true));
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const n = data[need(1)]!;
        const at = need(n);
        let x = 0n;
        for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(data[at + i]!);
        if (n > 0 && data[at + n - 1]! & 0x80) x -= 1n << BigInt(8 * n);
        push(Number(x));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(v.getFloat64(need(8), false));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal) || typeof pid[2] !== 'string') {
          fail('unexpected persistent id');
        }
        const [, type, key, , count] = pid as [string, PyGlobal, string, unknown, unknown];
        const short = type.name.startsWith('torch.') ? type.name.slice('torch.'.length) : '';
        const kind = STORAGES[short] ?? DTYPES[short];
        if (kind === undefined) fail(`${type.name} is not a storage type`);
        if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) fail(`storage ${key} has element count ${describe(count)}`);
        push(loadStorage(kind as StorageKind, key, count as number));
        break;
      }
      case 0x52: {
        // REDUCE: only the allowed calls, each done here by hand
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !Array.isArray(args)) fail('REDUCE needs a global and a tuple');
        push(call((fn as PyGlobal).name, args as unknown[], budget, fail));
        break;
      }
      case 0x62: // BUILD: state of an OrderedDict (its _metadata) or a tensor; none of it matters here
        pop();
        break;
      case 0x73: {
        // SETITEM
        const val = pop();
        const key = pop();
        setItems(top(), [key, val]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const x = pop();
        append(top(), [x]);
        break;
      }
      case 0x65: {
        // APPENDS
        const xs = popMark();
        append(top(), xs);
        break;
      }
      case 0x68: // BINGET
        push(memoGet(memo, data[need(1)]!, fail));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(memo, v.getUint32(need(4), true), fail));
        break;
      case 0x71: // BINPUT
        remember(data[need(1)]!);
        break;
      case 0x72: // LONG_BINPUT
        remember(v.getUint32(need(4), true));
        break;
      case 0x94: // MEMOIZE
        remember(memo.size);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (a checkpoint may only hold tensors)`);
    }
  }
}

function memoGet(memo: Map<number, unknown>, i: number, fail: (why: string) => never): unknown {
  if (!memo.has(i)) fail(`memo entry ${i} is missing`);
  return memo.get(i);
}

function call(name: string, args: unknown[], budget: (elements: number) => void, fail: (why: string) => never): unknown {
  switch (name) {
    case 'collections.OrderedDict':
      return new PyDict();
    case 'torch._utils._rebuild_parameter': {
      if (!(args[0] instanceof Tensor)) fail('_rebuild_parameter of a non-tensor');
      return args[0];
    }
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof Storage) || !Number.isSafeInteger(offset) || (offset as number) < 0 || !isInts(size) || !isInts(stride) || size.length !== stride.length) {
        fail('_rebuild_tensor_v2 with unexpected arguments');
      }
      return new Tensor(rebuild(storage as Storage, offset as number, size as number[], stride as number[], budget, fail));
    }
    default:
      return fail(`${name} cannot be called`);
  }
}

function isInts(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** The tensor `storage[offset + sum(index_k * stride_k)]` of `size`, copied out row-major. */
function rebuild(storage: Storage, offset: number, size: number[], stride: number[], budget: (elements: number) => void, fail: (why: string) => never): StoredTensor {
  const shape = [...size];
  const n = numel(shape);
  const es = ELEMENT_BYTES[storage.kind];
  const capacity = storage.bytes.byteLength / es;
  let span = 1; // elements from the first to the last one addressed, inclusive
  for (let k = 0; k < size.length; k++) if (size[k]! > 0) span += (size[k]! - 1) * stride[k]!;
  const where = `tensor of size [${size.length > 8 ? `${size.slice(0, 8)},...` : size}] at offset ${offset}`;
  if (n > 0 && offset + span > capacity) fail(`${where} runs past its storage (${capacity} elements)`);
  // A stride-0 (expanded) view would make a copy larger than anything in the file.
  if (n > capacity) fail(`${where} has ${n} elements, more than its storage holds (${capacity})`);
  budget(n);
  let contiguous = true;
  for (let k = size.length - 1, expect = 1; k >= 0; k--) {
    if (size[k] !== 1 && stride[k] !== expect) contiguous = false;
    expect *= size[k]!;
  }
  const region = storage.bytes.subarray(offset * es, (offset + (n === 0 ? 0 : span)) * es);
  const flat = decode(storage.kind, region, n === 0 ? 0 : span);
  if (contiguous) return { ...flat, shape } as StoredTensor;
  const src = flat.data;
  const dst = new (src.constructor as new (n: number) => typeof src)(n);
  const index = new Array<number>(size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = 0;
    for (let k = 0; k < size.length; k++) at += index[k]! * stride[k]!;
    dst[i] = src[at]!;
    for (let k = size.length - 1; k >= 0 && ++index[k]! === size[k]; k--) index[k] = 0;
  }
  return { dtype: flat.dtype, shape, data: dst } as StoredTensor;
}

function decode(kind: StorageKind, bytes: Uint8Array, count: number): StoredTensor {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (kind) {
    case 'I64': {
      const data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) data[i] = v.getBigInt64(8 * i, true);
      return { dtype: 'int64', shape: [count], data };
    }
    case 'I32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = v.getInt32(4 * i, true);
      return { dtype: 'int32', shape: [count], data };
    }
    case 'BOOL':
      return { dtype: 'bool', shape: [count], data: bytes.slice(0, count) };
    default:
      return { dtype: 'float', shape: [count], data: toFloat32(bytes, kind, count) };
  }
}
