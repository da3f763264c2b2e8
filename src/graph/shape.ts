// Symbolic shapes. A dim is a number or a product of named symbols with an integer coefficient,
// written canonically as a string ("batch", "batch*seq", "2*seq"), so that reshapes such as
// (batch, seq, 768) -> (batch*seq, 768) keep exact symbolic sizes.
import type { Dim } from './onnx.ts';

export type Shape = Dim[];

interface Monomial {
  coef: number;
  syms: string[];
}

function parse(d: Dim): Monomial {
  if (typeof d === 'number') return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*')) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  return { coef, syms: syms.sort() };
}

function format(m: Monomial): Dim {
  if (m.syms.length === 0) return m.coef;
  const s = m.syms.join('*');
  return m.coef === 1 ? s : `${m.coef}*${s}`;
}

export function dimMul(a: Dim, b: Dim): Dim {
  const x = parse(a);
  const y = parse(b);
  return format({ coef: x.coef * y.coef, syms: [...x.syms, ...y.syms].sort() });
}

/** a / b when it divides exactly, else undefined. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const x = parse(a);
  const y = parse(b);
  if (y.coef === 0 || x.coef % y.coef !== 0) return undefined;
  const syms = [...x.syms];
  for (const s of y.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return format({ coef: x.coef / y.coef, syms });
}

export const dimEq = (a: Dim, b: Dim): boolean => format(parse(a)) === format(parse(b));

export const numel = (shape: Shape): Dim => shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);

export const showShape = (s: Shape): string => `[${s.join(', ')}]`;

/** numpy broadcasting; undefined when the shapes do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): Shape | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (dimEq(x, y) || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else return undefined;
  }
  return out;
}

/** Normalises a possibly negative axis for a tensor of `rank`. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Binds symbolic dims to concrete sizes, checking that each symbol has one size. */
export function bindShape(expected: Shape, actual: readonly number[], bindings: Map<string, number>): string | undefined {
  if (expected.length !== actual.length) return `rank ${actual.length}, expected rank ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (typeof e === 'number') {
      if (e !== a) return `dim ${i} is ${a}, expected ${e}`;
    } else if (!e.includes('*')) {
      const bound = bindings.get(e);
      if (bound === undefined) bindings.set(e, a);
      else if (bound !== a) return `dim ${i} ('${e}') is ${a}, but '${e}' is ${bound} elsewhere in this call`;
    }
  }
  return undefined;
}

/** Concrete sizes of a symbolic shape, given the sizes bound to its symbols. */
export function resolveShape(shape: Shape, bindings: ReadonlyMap<string, number>): number[] {
  return shape.map((d) => {
    const m = parse(d);
    return m.syms.reduce((acc, s) => {
      const v = bindings.get(s);
      if (v === undefined) throw new RangeError(`symbolic dim '${s}' is not bound`);
      return acc * v;
    }, m.coef);
  });
}
