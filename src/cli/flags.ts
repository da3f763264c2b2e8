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
