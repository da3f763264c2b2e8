import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSchedule, linearWarmupDecay, warmupFromRatio } from '../src/train/schedule.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-15 + 1e-12 * Math.abs(b), `${a} vs ${b}`);

test('linear warmup + decay at the boundaries (lr 1e-4, warmup 10, steps 100)', () => {
  const s = { lr: 1e-4, warmup: 10, steps: 100 };
  close(linearWarmupDecay(s, 0), 0); // k = 0: nothing learned from the first batch, as in BERT
  close(linearWarmupDecay(s, 1), 1e-5);
  close(linearWarmupDecay(s, 9), 9e-5); // warmup - 1
  close(linearWarmupDecay(s, 10), 1e-4); // warmup: the peak
  close(linearWarmupDecay(s, 11), 1e-4 * 89 / 90);
  close(linearWarmupDecay(s, 55), 5e-5); // half way down
  close(linearWarmupDecay(s, 99), 1e-4 / 90); // steps - 1
  close(linearWarmupDecay(s, 100), 0); // steps
  close(linearWarmupDecay(s, 120), 0); // never below 0
});

test('no warmup starts at the peak; warmup = steps never divides by zero', () => {
  close(linearWarmupDecay({ lr: 2e-5, warmup: 0, steps: 4 }, 0), 2e-5);
  close(linearWarmupDecay({ lr: 2e-5, warmup: 0, steps: 4 }, 3), 5e-6);
  const all = { lr: 1, warmup: 4, steps: 4 };
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((k) => linearWarmupDecay(all, k)), [0, 0.25, 0.5, 0.75, 0, 0]);
});

test('warmup ratio rounds up', () => {
  assert.equal(warmupFromRatio(0.1, 1000), 100);
  assert.equal(warmupFromRatio(0.1, 1001), 101); // 100.1 -> 101
  assert.equal(warmupFromRatio(0.06, 50), 3);
  // 0.07 * 100 is 7.000000000000001 in float64: transformers' math.ceil(steps * ratio) gives 8 too.
  assert.equal(warmupFromRatio(0.07, 100), 8);
  assert.equal(warmupFromRatio(0, 50), 0);
  assert.throws(() => warmupFromRatio(1.5, 10), /between 0 and 1/);
});

test('checkSchedule names the flag', () => {
  assert.throws(() => checkSchedule({ lr: 1e-4, steps: 10, warmup: 11 }), /--warmup-steps \(11\) is more than --steps \(10\)/);
  assert.throws(() => checkSchedule({ lr: 0, steps: 10, warmup: 1 }), /--lr/);
  assert.throws(() => checkSchedule({ lr: 1e-4, steps: 0, warmup: 0 }), /--steps/);
  assert.doesNotThrow(() => checkSchedule({ lr: 1e-4, steps: 10, warmup: 10 }));
});
