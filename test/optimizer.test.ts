import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { AdamW, bertNoDecay, clipGradNorm, clipScale, globalGradNorm, GradAccumulator } from '../src/train/optimizer.ts';
import { loadOptimizerState, saveOptimizerState } from '../src/train/optimizer-file.ts';

// fixtures/optimizer/adamw.json comes from scripts/make_optimizer_fixtures.py (torch.optim.AdamW).
interface Fixture {
  betas: [number, number];
  eps: number;
  shapes: Record<string, number[]>;
  init: Record<string, number[]>;
  grads: Array<Record<string, number[]>>;
  runs: Array<{
    weight_decay: number;
    steps: Array<{
      lr: number;
      max_norm: number;
      grad_norm: number;
      clipped_grads: Record<string, number[]>;
      params: Record<string, number[]>;
      exp_avg: Record<string, number[]>;
      exp_avg_sq: Record<string, number[]>;
    }>;
  }>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/optimizer/adamw.json', import.meta.url), 'utf8')) as Fixture;

function freshParams(): Map<string, FloatTensor> {
  return new Map(Object.entries(fixture.shapes).map(([n, shape]) => [n, { shape, data: Float32Array.from(fixture.init[n]!) }]));
}
function gradsOf(k: number): Map<string, Float32Array> {
  return new Map(Object.entries(fixture.grads[k]!).map(([n, g]) => [n, Float32Array.from(g)]));
}
/** Largest difference in units of float32 spacing at the expected value. */
function maxUlps(actual: Float32Array, expected: number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const ulp = Math.max(2 ** (Math.floor(Math.log2(Math.abs(e) || 2 ** -126)) - 23), 2 ** -149);
    worst = Math.max(worst, Math.abs(actual[i]! - e) / ulp);
  }
  return worst;
}

test('bertNoDecay: biases and LayerNorm weights only', () => {
  assert.equal(bertNoDecay('bert.encoder.layer.0.attention.self.query.bias'), true);
  assert.equal(bertNoDecay('bert.embeddings.LayerNorm.weight'), true);
  assert.equal(bertNoDecay('bert.encoder.layer.3.output.LayerNorm.bias'), true);
  assert.equal(bertNoDecay('bert.encoder.layer.0.attention.self.query.weight'), false);
  assert.equal(bertNoDecay('bert.embeddings.word_embeddings.weight'), false);
  assert.equal(bertNoDecay('cls.predictions.bias'), true);
});

test('AdamW: one step worked by hand', () => {
  // p = 1, g = 0.5, lr = 0.1, wd = 0.01, betas (0.9, 0.999), eps 1e-6, t = 1:
  // p' = 1 * (1 - 0.001) = 0.999; m = 0.05; v = 0.00025; m_hat = 0.5; v_hat = 0.25;
  // p'' = 0.999 - 0.1 * 0.5 / (0.5 + 1e-6) = 0.999 - 0.0999998 = 0.8990002
  const params = new Map([['w', { shape: [1], data: Float32Array.of(1) }], ['b.bias', { shape: [1], data: Float32Array.of(1) }]]);
  const opt = new AdamW(params, { weightDecay: 0.01 });
  opt.step(new Map([['w', Float32Array.of(0.5)], ['b.bias', Float32Array.of(0.5)]]), 0.1);
  assert.equal(opt.stepCount, 1);
  assert.ok(Math.abs(params.get('w')!.data[0]! - 0.8990002) < 1e-7, `${params.get('w')!.data[0]}`);
  // The bias gets no decay: 1 - 0.0999998.
  assert.ok(Math.abs(params.get('b.bias')!.data[0]! - 0.9000002) < 1e-7, `${params.get('b.bias')!.data[0]}`);
  const state = opt.stateTensors();
  assert.ok(Math.abs(state.get('exp_avg.w')!.data[0]! - 0.05) < 1e-9);
  assert.ok(Math.abs(state.get('exp_avg_sq.w')!.data[0]! - 0.00025) < 1e-10);
  assert.deepEqual(opt.decayed(), ['w']);
});

for (const [r, run] of fixture.runs.entries()) {
  test(`AdamW + clipGradNorm match torch over 3 steps (weight decay ${run.weight_decay}, lr changing)`, () => {
    const params = freshParams();
    const opt = new AdamW(params, { betas: fixture.betas, eps: fixture.eps, weightDecay: run.weight_decay });
    let worst = 0;
    for (const [k, want] of run.steps.entries()) {
      const grads = gradsOf(k);
      const norm = clipGradNorm(grads, want.max_norm);
      assert.ok(Math.abs(norm - want.grad_norm) <= 1e-6 * want.grad_norm, `step ${k}: norm ${norm} vs torch ${want.grad_norm}`);
      for (const [n, g] of grads) worst = Math.max(worst, maxUlps(g, want.clipped_grads[n]!));
      opt.step(grads, want.lr);
      const state = opt.stateTensors();
      for (const [n, p] of params) {
        worst = Math.max(worst, maxUlps(p.data, want.params[n]!));
        worst = Math.max(worst, maxUlps(state.get(`exp_avg.${n}`)!.data, want.exp_avg[n]!));
        worst = Math.max(worst, maxUlps(state.get(`exp_avg_sq.${n}`)!.data, want.exp_avg_sq[n]!));
      }
    }
    // float32 throughout, as torch; torch may fuse a multiply-add and sums norms in float32.
    assert.ok(worst <= 4, `worst difference from torch: ${worst} ulp (run ${r})`);
  });
}

test('AdamW: without weight decay the decayed run differs only in the decayed parameters', () => {
  const [withWd, without] = fixture.runs as [Fixture['runs'][number], Fixture['runs'][number]];
  const last = (run: typeof withWd) => run.steps[run.steps.length - 1]!.params;
  for (const name of Object.keys(fixture.shapes)) {
    const same = last(withWd)[name]!.every((x, i) => x === last(without)[name]![i]);
    assert.equal(same, bertNoDecay(name), name);
  }
});

test('clipGradNorm: below max_norm leaves gradients untouched; returns the norm', () => {
  const a = Float32Array.of(3, 4);
  const b = Float32Array.of(12);
  assert.equal(clipGradNorm([a, b], 100), 13);
  assert.deepEqual([...a, ...b], [3, 4, 12]);
  // max_norm 1: scale 1 / (13 + 1e-6).
  assert.equal(clipGradNorm(new Map([['a', a], ['b', b]]), 1), 13);
  assert.ok(Math.abs(a[0]! - 3 / 13) < 1e-7 && Math.abs(b[0]! - 12 / 13) < 1e-7);
});

test('AdamW.step with gradScale gives bit for bit what clipping in place then stepping gives', () => {
  for (const [r, run] of fixture.runs.entries()) {
    const clipped = freshParams();
    const fused = freshParams();
    const optA = new AdamW(clipped, { betas: fixture.betas, eps: fixture.eps, weightDecay: run.weight_decay });
    const optB = new AdamW(fused, { betas: fixture.betas, eps: fixture.eps, weightDecay: run.weight_decay });
    for (const [k, want] of run.steps.entries()) {
      const a = gradsOf(k);
      const b = gradsOf(k);
      const norm = clipGradNorm(a, want.max_norm);
      optA.step(a, want.lr);
      optB.step(b, want.lr, clipScale(globalGradNorm(b.values()), want.max_norm));
      assert.equal(globalGradNorm(gradsOf(k).values()), norm);
      assert.deepEqual([...b.values()], [...gradsOf(k).values()], 'the gradients are left as they came');
    }
    for (const [n, p] of clipped) assert.deepEqual(fused.get(n)!.data, p.data, `${n} (run ${r})`);
    for (const [n, t] of optA.stateTensors()) assert.deepEqual(optB.stateTensors().get(n)!.data, t.data, `${n} (run ${r})`);
  }
});

test('AdamW: the WebAssembly SIMD kernel and the JavaScript loop give the same bits (odd sizes, chunk edges, clipping)', () => {
  const sizes = { 'a.weight': 3, 'b.weight': 16384 * 2 + 5, 'c.bias': 7, 'd.LayerNorm.weight': 1 };
  const make = () => new Map(Object.entries(sizes).map(([n, len], j) => [n, { shape: [len], data: Float32Array.from({ length: len }, (_, i) => Math.sin(i + j) * 0.1) }]));
  const simd = make();
  const js = make();
  const optS = new AdamW(simd, { weightDecay: 0.01 });
  const optJ = new AdamW(js, { weightDecay: 0.01, simd: false });
  for (let k = 0; k < 4; k++) {
    const grads = new Map(Object.entries(sizes).map(([n, len]) => [n, Float32Array.from({ length: len }, (_, i) => Math.cos(i * 1.7 + k) * 0.01)]));
    optS.step(grads, 1e-3 * (k + 1), k % 2 ? 0.37 : 1);
    optJ.step(grads, 1e-3 * (k + 1), k % 2 ? 0.37 : 1);
  }
  for (const [n, p] of js) assert.deepEqual(simd.get(n)!.data, p.data, n);
  for (const [n, t] of optJ.stateTensors()) assert.deepEqual(optS.stateTensors().get(n)!.data, t.data, n);
});

test('globalGradNorm: sqrt of the sum of squares over all tensors, any length; clipScale is 1 at or under max_norm', () => {
  // 1..7 squared sum to 140, and 0.5 over 5 values to 1.25: sqrt(141.25)
  assert.equal(globalGradNorm([Float32Array.of(1, 2, 3, 4, 5, 6, 7), new Float32Array(5).fill(0.5)]), Math.sqrt(141.25));
  assert.equal(globalGradNorm([]), 0);
  assert.equal(clipScale(3, 100), 1);
  assert.equal(clipScale(Number.NaN, 1), 1);
  assert.equal(clipScale(13, 1), Math.fround(1 / (13 + 1e-6)));
});

test("AdamW.gradNorm (WebAssembly SIMD) gives globalGradNorm's bits: odd sizes, chunk edges, tails, wide magnitudes", () => {
  const opt = new AdamW(new Map(), {});
  assert.equal(opt.gradNorm([Float32Array.of(1, 2, 3, 4, 5, 6, 7), new Float32Array(5).fill(0.5)]), Math.sqrt(141.25));
  assert.equal(opt.gradNorm([]), 0);
  assert.equal(opt.gradNorm([new Float32Array(0), Float32Array.of(3), Float32Array.of(0, 4)]), 5);
  const lengths = [1, 3, 4, 5, 16383, 16384, 16385, 16384 * 3 + 2, 40001];
  const grads = lengths.map((n, j) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + j) * 10 ** ((i % 7) - 4)));
  const want = globalGradNorm(grads);
  assert.equal(opt.gradNorm(grads), want);
  assert.equal(new AdamW(new Map(), { simd: false }).gradNorm(grads), want);
  // against one plain float64 running sum: the same to 1e-12, but not the same bits (so this data
  // tells summation orders apart, and a kernel that summed in another order would fail above)
  let plain = 0;
  for (const g of grads) for (const x of g) plain += x * x;
  assert.ok(Math.abs(want - Math.sqrt(plain)) <= 1e-12 * want, `${want} vs ${Math.sqrt(plain)}`);
  assert.notEqual(want, Math.sqrt(plain));
  // small tensors of values from 2^-20 to 2^20: here summing the four partial sums in another order
  // changes the bits in about one set in ten
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let t = 0; t < 50; t++) {
    const set = Array.from({ length: 3 }, () => Float32Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => (rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 20)));
    assert.equal(opt.gradNorm(set), globalGradNorm(set), `set ${t}`);
  }
});

test('AdamW: save then load continues bit-identically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adamw-'));
  try {
    const straight = freshParams();
    const optA = new AdamW(straight, { weightDecay: 0.01 });
    for (let k = 0; k < 3; k++) optA.step(gradsOf(k), 1e-2 * (k + 1));

    const resumed = freshParams();
    const optB = new AdamW(resumed, { weightDecay: 0.01 });
    optB.step(gradsOf(0), 1e-2);
    saveOptimizerState(optB, join(dir, 'optimizer.safetensors'));
    const saved = new Map([...resumed].map(([n, p]) => [n, { shape: p.shape, data: p.data.slice() }]));
    const optC = new AdamW(saved, { weightDecay: 0.01 });
    loadOptimizerState(optC, join(dir, 'optimizer.safetensors'));
    assert.equal(optC.stepCount, 1);
    for (let k = 1; k < 3; k++) optC.step(gradsOf(k), 1e-2 * (k + 1));
    for (const [n, p] of straight) assert.deepEqual(saved.get(n)!.data, p.data, n);
    for (const [n, t] of optA.stateTensors()) assert.deepEqual(optC.stateTensors().get(n)!.data, t.data, n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AdamW: load refuses state of another model and leaves itself unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adamw-'));
  try {
    const path = join(dir, 'opt.safetensors');
    saveOptimizerState(new AdamW(new Map([['w', { shape: [2], data: new Float32Array(2) }]])), path);
    const opt = new AdamW(new Map([['w', { shape: [3], data: new Float32Array(3) }]]));
    assert.throws(() => loadOptimizerState(opt, path), /shape \[2\], the parameter \[3\]/);
    assert.equal(opt.stepCount, 0);
    const other = new AdamW(new Map([['v', { shape: [2], data: new Float32Array(2) }]]));
    assert.throws(() => loadOptimizerState(other, path), /not a parameter of this model/);
    writeFileSync(join(dir, 'x.safetensors'), 'garbage');
    assert.throws(() => loadOptimizerState(opt, join(dir, 'x.safetensors')), /not a valid safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AdamW.step: a missing or wrong-sized gradient is an error, nothing is updated', () => {
  const params = new Map([['w', { shape: [2], data: Float32Array.of(1, 2) }], ['u', { shape: [1], data: Float32Array.of(3) }]]);
  const opt = new AdamW(params);
  assert.throws(() => opt.step(new Map([['w', new Float32Array(2)]]), 0.1), /no gradient for parameter 'u'/);
  assert.throws(() => opt.step(new Map([['w', new Float32Array(3)], ['u', new Float32Array(1)]]), 0.1), /has 3 values/);
  assert.deepEqual([...params.get('w')!.data], [1, 2]);
  assert.equal(opt.stepCount, 0);
});

test('GradAccumulator: averages micro-batches, then starts over', () => {
  const params = new Map([['w', { shape: [2], data: new Float32Array(2) }]]);
  const acc = new GradAccumulator(params);
  const buf = Float32Array.of(1, 2); // one buffer reused for every micro-batch, as TrainStep does
  acc.add(new Map([['w', buf]]));
  buf.set([2, 4]);
  acc.add(new Map([['w', buf]]));
  buf.set([6, -3]);
  acc.add(new Map([['w', buf]]));
  assert.equal(acc.count, 3);
  assert.deepEqual([...acc.average().get('w')!], [3, 1]);
  assert.equal(acc.count, 0);
  buf.set([5, 7]);
  acc.add(new Map([['w', buf]]));
  assert.deepEqual([...acc.average().get('w')!], [5, 7]);
  assert.throws(() => acc.average(), /no micro-batch/);
});

test('GradAccumulator: the WebAssembly SIMD sums and the JavaScript loops give the same bits (odd sizes, chunk edges, -0)', () => {
  const sizes = { a: 3, b: 16384 * 2 + 5, c: 1 };
  const params = new Map(Object.entries(sizes).map(([n, len]) => [n, { shape: [len], data: new Float32Array(len) }]));
  const simd = new GradAccumulator(params);
  const js = new GradAccumulator(params, { simd: false });
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < 3; k++) {
      const grads = new Map(Object.entries(sizes).map(([n, len]) => [n, Float32Array.from({ length: len }, (_, i) => (i % 7 === 0 ? -0 : Math.sin(i * 0.3 + k + round) / 3))]));
      simd.add(grads);
      js.add(grads);
    }
    const [s, j] = [simd.average(), js.average()];
    for (const [n, v] of j) assert.deepEqual(s.get(n), v, `${n}, round ${round}`);
  }
});
