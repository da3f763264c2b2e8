// BERT's initialisation: weights ~ N(0, initializer_range) truncated at 2 std, biases 0, LayerNorm 1/0.
import type { BertConfig } from './config.ts';
import type { ParamTensor } from './runner.ts';

/** A seeded stream of standard normals (splitmix32 uniforms through Box-Muller). */
export function normalStream(seed: number): () => number {
  let x = seed >>> 0;
  const uniform = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (((z ^ (z >>> 16)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Fresh parameters for `shapes` (HF names), seeded; each name gets its own stream, so adding a head leaves the rest unchanged. */
export function initParams(shapes: ReadonlyMap<string, number[]>, config: BertConfig, seed: number): Map<string, ParamTensor> {
  const out = new Map<string, ParamTensor>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) {
      const normal = normalStream(seed ^ hashName(name));
      const std = config.initializer_range;
      for (let i = 0; i < n; i++) {
        let z = normal();
        while (Math.abs(z) > 2) z = normal();
        data[i] = z * std;
      }
    }
    out.set(name, { shape, data });
  }
  return out;
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
