// The file side of lower.ts (Node only): lower.ts itself stays free of file access for the browser build.
import { writeFileAtomic } from '../io/atomic.ts';
import type { Value } from './graph.ts';
import { lowerGraph, type LowerOptions } from './lower.ts';

/** Writes the ONNX model computing `outputs` to `path` (for Netron, onnx.checker, ...). */
export function writeOnnx(path: string, outputs: Record<string, Value>, opts: LowerOptions = {}): void {
  writeFileAtomic(path, lowerGraph(outputs, opts).bytes);
}
