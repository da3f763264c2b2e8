// Reading and writing .safetensors files (Node); the format itself is in safetensors-format.ts.
import { readFileSync } from 'node:fs';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { encodeSafetensors, parseSafetensors, type SafetensorsFile } from './safetensors-format.ts';
import type { FloatTensor } from './tensor.ts';

export { encodeSafetensors, parseSafetensors, type SafetensorsFile } from './safetensors-format.ts';

/**
 * Reads a .safetensors file with one read of the whole file; fp32 tensors are views into that buffer
 * (no second copy), F16/BF16/F64 are converted to fp32, I64/I32/BOOL/U8 stay integers.
 */
export function readSafetensors(path: string): SafetensorsFile {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (err) {
    throw new BertError(`cannot read safetensors file: ${(err as Error).message}`, path);
  }
  return parseSafetensors(file, path);
}

/**
 * Writes fp32 tensors as a safetensors file, atomically: header `{"__metadata__": {"format": "pt"}, ...}`
 * padded with spaces to an 8-byte boundary, tensors in sorted-name order. Tensor bytes are written
 * straight from their arrays, not gathered into one buffer.
 */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, FloatTensor>, metadata: Record<string, string> = { format: 'pt' }): void {
  const { header, chunks } = encodeSafetensors(tensors, metadata);
  writeFileAtomic(path, [header, ...chunks]);
}
