// Dropout keep-masks, made on the host. A mask is a pure function of (seed, step, site): no generator
// state to save, so a resumed run draws exactly the masks the uninterrupted run would have, and the
// backward pass reuses the forward's mask because both read the same graph input. This costs a
// fraction of ORT's RandomUniform-based Dropout (one 32-bit hash gives two 16-bit uniforms).
import type { DropoutSite } from '../model/bert.ts';
import type { HostTensor } from '../runtime/session.ts';

/** lowbias32 (Wellons): a fast 32-bit integer hash with good avalanche. */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Fills `out` with keep (1) / drop (0) at rate `p`, from the stream named by (seed, step, site). */
export function fillKeepMask(out: Uint8Array, p: number, seed: number, step: number, site: number): void {
  const threshold = Math.round(p * 65536); // drop when a 16-bit uniform < threshold
  const key = hash32(hash32(hash32(seed >>> 0) ^ (step >>> 0)) ^ Math.imul(site + 1, 0x9e3779b9));
  const n = out.length;
  let i = 0;
  for (let c = 0; i + 1 < n; c++, i += 2) {
    const r = hash32((key + Math.imul(c, 0x9e3779b9)) >>> 0 ^ c);
    out[i] = (r & 0xffff) >= threshold ? 1 : 0;
    out[i + 1] = r >>> 16 >= threshold ? 1 : 0;
  }
  if (i < n) out[i] = (hash32(key ^ 0xdeadbeef ^ i) & 0xffff) >= threshold ? 1 : 0;
}

/**
 * Keep-masks for every dropout site of a graph, for one step. `shapes` gives each site's concrete
 * shape (its symbolic shape resolved against the batch). Buffers are reused across calls.
 */
export class DropoutMasks {
  private buffers: Uint8Array[] = [];

  constructor(
    private readonly sites: readonly DropoutSite[],
    private readonly seed: number,
  ) {}

  forStep(step: number, shapes: readonly number[][]): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    this.sites.forEach((site, k) => {
      const shape = shapes[k]!;
      const n = shape.reduce((a, b) => a * b, 1);
      let buf = this.buffers[k];
      if (!buf || buf.length !== n) buf = this.buffers[k] = new Uint8Array(n);
      fillKeepMask(buf, site.p, this.seed, step, k);
      feeds[site.mask.name] = { dtype: 'bool', shape, data: buf };
    });
    return feeds;
  }
}
