import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../src/graph/graph.ts';
import { DropoutMasks, fillKeepMask } from '../src/train/dropout.ts';

test('DropoutMasks (WebAssembly SIMD kernel) makes the same bytes as fillKeepMask, for lengths around its 16-byte stores and chunks', () => {
  const g = new Graph();
  const sizes = [1, 2, 15, 16, 17, 33, 65536 + 18, 2 * 65536 + 15];
  const sites = sizes.map((n, k) => ({ mask: g.input(`m${k}`, 'uint8', [n]), p: [0.1, 0.5, 1][k % 3]! }));
  const masks = new DropoutMasks(sites, 42);
  for (const step of [0, 7]) {
    const feeds = masks.forStep(step, sizes.map((n) => [n]));
    sizes.forEach((n, k) => {
      const want = new Uint8Array(n);
      fillKeepMask(want, sites[k]!.p, 42, step, k);
      assert.deepEqual(feeds[`m${k}`]!.data, want, `site ${k} (${n} entries, p ${sites[k]!.p}), step ${step}`);
    });
  }
});
