// The symbolic graph: typed values with (symbolic) shapes, and nodes that are ONNX operators one to
// one. Ops (ops.ts) check shapes when a node is added; autodiff (autodiff.ts) adds the backward nodes
// to the same graph; lower.ts writes it as an ONNX model.
import { BertError } from '../errors.ts';
import type { AttrValue, DType } from './onnx.ts';
import type { Shape } from './shape.ts';
import { showShape } from './shape.ts';

export type { DType } from './onnx.ts';
export type { Shape } from './shape.ts';

export type HostData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

export class Value {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    /** The node that computes this value; undefined for graph inputs and constants. */
    readonly producer: Node | undefined,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${showShape(this.shape)}`;
  }
}

export interface Node {
  readonly op: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface Constant {
  readonly value: Value;
  readonly data: HostData;
}

export type InputRole = 'input' | 'param';

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly roles = new Map<Value, InputRole>();
  readonly constants: Constant[] = [];
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private readonly sharedCache = new Map<string, Value>();

  /** Runs `fn` with node names prefixed by `name` (e.g. "encoder.layer.3"), for readable dumps and profiles. */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private uniqueName(base: string): string {
    const prefix = this.scopes.length ? `${this.scopes.join('.')}.` : '';
    let name = `${prefix}${base}`;
    for (let i = 1; this.names.has(name); i++) name = `${prefix}${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** A runtime input: data (`input_ids`) or a parameter (fed each step; its gradient can be asked for). */
  input(name: string, dtype: DType, shape: Shape, role: InputRole = 'input'): Value {
    if (this.names.has(name)) throw new BertError(`graph already has a value named '${name}'`);
    this.names.add(name);
    const v = new Value(this, name, dtype, shape, undefined);
    this.inputs.push(v);
    this.roles.set(v, role);
    return v;
  }

  param(name: string, shape: number[], dtype: DType = 'float32'): Value {
    return this.input(name, dtype, shape, 'param');
  }

  constant(data: HostData, shape: number[], dtype: DType, base = 'const'): Value {
    const v = new Value(this, this.uniqueName(base), dtype, shape, undefined);
    this.constants.push({ value: v, data });
    return v;
  }

  /**
   * Turns parameter `v` into a constant holding `data`: inference graphs carry their weights as ONNX
   * initializers, so ORT can fold and pre-pack them instead of reading them as inputs every run.
   */
  freeze(v: Value, data: HostData): void {
    if (this.roles.get(v) !== 'param') throw new BertError(`freeze: ${v.name} is not a parameter of this graph`);
    const n = v.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1);
    if (n !== data.length) throw new BertError(`freeze: ${v.name}${showShape(v.shape)} needs ${n} elements, got ${data.length}`);
    this.inputs.splice(this.inputs.indexOf(v), 1);
    this.roles.delete(v);
    this.constants.push({ value: v, data });
  }

  /** A scalar constant of `dtype`, shared by every use. */
  scalar(x: number, dtype: DType): Value {
    return this.shared(`scalar:${dtype}:${x}`, () => {
      const data =
        dtype === 'float64' ? new Float64Array([x])
        : dtype === 'int64' ? new BigInt64Array([BigInt(x)])
        : dtype === 'bool' ? new Uint8Array([x ? 1 : 0])
        : new Float32Array([x]);
      return this.constant(data, [], dtype, 'scalar');
    });
  }

  /** The value `make` builds, built once per `key` and shared by every later use in this graph. */
  shared(key: string, make: () => Value): Value {
    let v = this.sharedCache.get(key);
    if (!v) {
      v = make();
      this.sharedCache.set(key, v);
    }
    return v;
  }

  /** An int64 1-D constant (shapes, axes, indices). */
  ints(values: number[]): Value {
    return this.constant(BigInt64Array.from(values, (x) => BigInt(x)), [values.length], 'int64', 'ints');
  }

  addNode(
    op: string,
    inputs: Value[],
    outputs: Array<{ dtype: DType; shape: Shape }>,
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): Value[] {
    return this.addNamed(op, op, inputs, outputs, attrs, domain);
  }

  /**
   * Adds a copy of `node` (of this graph or another) that reads `inputs`. Its name is the original's
   * under the current scope, so copies of a whole graph keep readable, unique names cheaply.
   */
  copyNode(node: Node, inputs: Value[]): Value[] {
    const outputs = node.outputs.map((v) => ({ dtype: v.dtype, shape: v.shape }));
    return this.addNamed(node.name, node.op, inputs, outputs, node.attrs, node.domain);
  }

  private addNamed(
    base: string,
    op: string,
    inputs: Value[],
    outputs: Array<{ dtype: DType; shape: Shape }>,
    attrs: Record<string, AttrValue>,
    domain: string,
  ): Value[] {
    for (const v of inputs) {
      if (v.graph !== this) throw new BertError(`${op}: input ${v.name} belongs to another graph`);
    }
    const name = this.uniqueName(base);
    const outs: Value[] = [];
    const node: Node = { op, domain, name, inputs, outputs: outs, attrs };
    outputs.forEach((o, i) => outs.push(new Value(this, outputs.length === 1 ? name : `${name}:${i}`, o.dtype, o.shape, node)));
    this.nodes.push(node);
    return outs;
  }

  inputByName(name: string): Value | undefined {
    return this.inputs.find((v) => v.name === name);
  }

  params(): Value[] {
    return this.inputs.filter((v) => this.roles.get(v) === 'param');
  }
}

/** The nodes `outputs` depend on, in topological (creation) order. */
export function ancestors(outputs: readonly Value[]): Node[] {
  const seen = new Set<Node>();
  const stack: Value[] = [...outputs];
  while (stack.length) {
    const v = stack.pop()!;
    const n = v.producer;
    if (!n || seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  const g = outputs[0]?.graph;
  return g ? g.nodes.filter((n) => seen.has(n)) : [];
}
