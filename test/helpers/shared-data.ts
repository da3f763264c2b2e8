import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/data` beside the checkout: real evaluation data, never copied into the repo. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data');

/**
 * Path to a file under ../shared/data. When it is missing: under CI the test fails with a clear
 * message; elsewhere the caller gets `undefined` and should skip with `t.skip(...)`.
 */
export function sharedData(relative: string): string | undefined {
  const path = join(SHARED_DATA, relative);
  if (existsSync(path)) return path;
  if (process.env.CI) {
    throw new Error(`missing ${path}: CI must have ../shared/data beside the clone (see shared/data/SOURCES.md)`);
  }
  return undefined;
}
