import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { BertError } from '../src/errors.ts';
import { makeConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { OptimizerStep } from '../src/train/accumulate.ts';
import { finetuneObjective } from '../src/train/finetune-objectives.ts';
import { AdamW } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';

const config = makeConfig({ vocab_size: 23, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 16 });
const head = { family: 'classification' as const, numLabels: 2 };
const S = 4;
const rows = [[2, 5, 9, 3], [2, 11, 4, 3], [2, 7, 7, 3], [2, 14, 6, 3]];
const labels = [0, 1, 1, 0];
const i64 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(v, BigInt) });
const feeds = (from: number, to: number): Record<string, HostTensor> => {
  const B = to - from;
  return {
    input_ids: i64([B, S], rows.slice(from, to).flat()),
    token_type_ids: i64([B, S], new Array<number>(B * S).fill(0)),
    attention_mask: i64([B, S], new Array<number>(B * S).fill(1)),
    labels: i64([B], labels.slice(from, to)),
  };
};

async function oneUpdate(gradAccum: number) {
  const params = initParams(bertParameterShapes(config, 'sequence_classification', 2), config, 5);
  // No dropout: micro-batches must then add up to exactly the full batch's mean gradient.
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: false }), { seed: 0, threads: 1 });
  const update = new OptimizerStep(step, new AdamW(params, { weightDecay: 0.01 }), params, { gradAccum, schedule: { lr: 1e-2, steps: 10, warmup: 0 }, maxGradNorm: 1 });
  const per = rows.length / gradAccum;
  const seen: number[] = [];
  try {
    const r = await update.run(0, { count: gradAccum, firstIndex: 0, feeds: (m) => feeds(m * per, (m + 1) * per), onResult: (x) => seen.push(x.loss) });
    return { params, r, seen, update };
  } finally {
    await step.dispose();
  }
}

test('two micro-batches of 2 update the parameters as one batch of 4 does; the loss is their mean', async () => {
  const whole = await oneUpdate(1);
  const split = await oneUpdate(2);
  assert.equal(split.seen.length, 2);
  assert.ok(Math.abs(split.r.loss - (split.seen[0]! + split.seen[1]!) / 2) < 1e-12);
  assert.ok(Math.abs(split.r.loss - whole.r.loss) < 1e-5, `${split.r.loss} vs ${whole.r.loss}`);
  assert.ok(Math.abs(split.r.grad_norm - whole.r.grad_norm) < 1e-4 * whole.r.grad_norm);
  assert.equal(split.r.lr, whole.r.lr);
  let worst = 0;
  for (const [name, p] of whole.params) {
    const q = split.params.get(name)!.data;
    p.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - q[i]!))));
  }
  assert.ok(worst < 1e-6, `largest parameter difference ${worst}`);
  // ...and the update did move them.
  const start = initParams(bertParameterShapes(config, 'sequence_classification', 2), config, 5);
  assert.notDeepEqual(whole.params.get('classifier.weight')!.data, start.get('classifier.weight')!.data);
});

test('an optimizer step of more micro-batches than gradAccum (or none) is an error', async () => {
  const { update } = await oneUpdate(2);
  for (const count of [0, 3]) {
    await assert.rejects(update.run(1, { count, firstIndex: 0, feeds: () => feeds(0, 2) }), (e: unknown) => e instanceof BertError && /1 to 2 micro-batches, got/.test(e.message));
  }
});
