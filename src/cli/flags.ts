// Numeric flag values, checked where they are parsed: each error names the flag and the bad value.
import { BertError } from '../errors.ts';

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new BertError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export function nonNegativeInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new BertError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function finiteNumber(value: string, flag: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new BertError(`${flag} must be a number, got ${JSON.stringify(value)}`);
  return x;
}

export function nonNegativeNumber(value: string, flag: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0) throw new BertError(`${flag} must be a non-negative number, got ${JSON.stringify(value)}`);
  return x;
}

export function probability(value: string, flag: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new BertError(`${flag} must be a number in [0, 1], got ${JSON.stringify(value)}`);
  return x;
}

/** A flag's check: the value as typed, and the flag's name for the error. */
export type Check<T> = (value: string, flag: string) => T;

/**
 * Commander's `.option(flags, description, parser, default)` arguments with `check` as the parser,
 * so a flag's name is written once: `.option(...checked('--steps <n>', 'optimizer steps', positiveInt, 1000))`.
 * Commander runs the parser on each value given (not on the default), before the command's action.
 */
export function checked<T>(flags: string, description: string, check: Check<T>, defaultValue?: T): [string, string, (value: string) => T, T?] {
  const flag = flags.split(/[\s,]/)[0]!;
  return [flags, description, (value: string) => check(value, flag), defaultValue];
}

/** One of `values`: "must be int8", "must be cls or mean", "must be one of a, b, c". */
export function oneOf<const V extends string>(values: readonly V[]): Check<V> {
  const said = values.length <= 2 ? values.join(' or ') : `one of ${values.join(', ')}`;
  return (value, flag) => {
    if (!(values as readonly string[]).includes(value)) throw new BertError(`${flag} must be ${said}, got ${JSON.stringify(value)}`);
    return value as V;
  };
}

/** A non-negative number rounded to an integer (seeds and step counts given as 1e3, say). */
export function roundedNonNegative(value: string, flag: string): number {
  return Math.round(nonNegativeNumber(value, flag));
}

/** --quantize (fill-mask, embed, serve, export). */
export const QUANTIZE = oneOf(['int8']);
