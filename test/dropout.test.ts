import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../src/graph/graph.ts';
import { DropoutMasks, fillKeepMask } from '../src/train/dropout.ts';

test('DropoutMasks (WebAssembly SIMD kernel) makes the same bytes as fillKeepMask, for lengths around its 16-byte stores and chunks', () => {
  const g = new Graph();
  const sizes = [1, 2, 15, 16, 17, 33, 65536 + 18, 2 * 65536 + 15];
  const sites = sizes.map((n, k) => ({ mask: g.input(`m${k}`, 'bool', [n]), p: [0.1, 0.5, 1][k % 3]! }));
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

test('DropoutMasks.prepare fills the next step without touching the masks handed out, and forStep then gives the same masks as without it', () => {
  const g = new Graph();
  const sites = [{ mask: g.input('a', 'bool', [3, 50]), p: 0.1 }, { mask: g.input('b', 'bool', [4, 33]), p: 0.3 }];
  const shapes = [[3, 50], [4, 33]];
  const plain = new DropoutMasks(sites, 5);
  const ahead = new DropoutMasks(sites, 5);
  for (let step = 0; step < 4; step++) {
    const inFlight = ahead.forStep(step, shapes);
    const copy = Object.fromEntries(Object.entries(inFlight).map(([k, t]) => [k, (t.data as Uint8Array).slice()]));
    ahead.prepare(step + 1, shapes);
    for (const [k, t] of Object.entries(inFlight)) assert.deepEqual(t.data, copy[k], `step ${step}: ${k} changed while in flight`);
    const want = plain.forStep(step, shapes);
    for (const [k, t] of Object.entries(want)) assert.deepEqual(inFlight[k]!.data, t.data, `step ${step}: ${k}`);
  }
  // a prepared step that is not the one asked for is not used
  ahead.prepare(9, shapes);
  const asked = ahead.forStep(6, shapes);
  for (const [k, t] of Object.entries(plain.forStep(6, shapes))) assert.deepEqual(asked[k]!.data, t.data, k);
});
