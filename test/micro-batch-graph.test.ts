import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { BertError } from '../src/errors.ts';
import { makeConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { OptimizerStep } from '../src/train/accumulate.ts';
import { preTrainingObjective } from '../src/train/objectives.ts';
import { AdamW, GradAccumulator } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';

const config = makeConfig({ vocab_size: 23, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 16 });
const [B, S, P] = [2, 6, 2];
const i64 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(v, BigInt) });

/** Micro-batch m: different tokens, masks, labels and padding for each m. */
function microBatch(m: number): Record<string, HostTensor> {
  const ids = Array.from({ length: B * S }, (_, i) => (i % S === 0 ? 2 : i % S === S - 1 ? 3 : 4 + ((i * 7 + m * 5) % 19)));
  const attention = Array.from({ length: B * S }, (_, i) => (i >= S && i % S >= S - m ? 0 : 1));
  return {
    input_ids: i64([B, S], ids),
    token_type_ids: i64([B, S], Array.from({ length: B * S }, (_, i) => (i % S >= 3 ? 1 : 0))),
    attention_mask: i64([B, S], attention),
    masked_lm_positions: i64([B, P], [1, 3 + (m % 2), 2, 1]),
    masked_lm_ids: i64([B, P], [5 + m, 9, 11, m === 1 ? -100 : 7]),
    next_sentence_label: i64([B], [m % 2, 1]),
  };
}

const params = () => initParams(bertParameterShapes(config, 'pretraining'), config, 11);

test('K micro-batches in one graph give the bits of K runs averaged on the host, dropout included', async () => {
  const K = 3;
  const first = 40;
  const batches = Array.from({ length: K }, (_, m) => microBatch(m));
  const ps = params();
  const one = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 5, threads: 1 });
  const all = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 5, threads: 1, microBatches: K });
  try {
    assert.equal(all.microBatches, K);
    const host = new GradAccumulator(ps);
    const byHost = [];
    for (let m = 0; m < K; m++) {
      const r = await one.run(batches[m]!, ps, first + m);
      byHost.push({ loss: r.loss, outputs: r.outputs });
      host.add(r.grads);
    }
    const expected = host.average();
    const got = await all.runMicroBatches(batches, ps, first);
    assert.deepEqual(got.results, byHost);
    assert.equal(got.grads.size, expected.size);
    for (const [name, g] of expected) assert.deepEqual(got.grads.get(name), g, name);
    // the micro-batches differ, so a copy reading another's inputs or masks would show
    assert.notEqual(byHost[0]!.loss, byHost[1]!.loss);
    // and the masks are the steps': the same batches at other steps give other gradients
    const other = await all.runMicroBatches(batches, ps, first + K);
    assert.notDeepEqual(other.grads.get('bert.encoder.layer.0.attention.self.query.weight'), expected.get('bert.encoder.layer.0.attention.self.query.weight'));
  } finally {
    await one.dispose();
    await all.dispose();
  }
});

test('an optimizer step over an in-graph step updates the parameters as host accumulation does', async () => {
  const K = 2;
  const schedule = { lr: 1e-2, steps: 10, warmup: 0 };
  const update = async (microBatches: number) => {
    const ps = params();
    const step = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 3, threads: 1, microBatches });
    const losses: number[] = [];
    try {
      const opt = new OptimizerStep(step, new AdamW(ps, { weightDecay: 0.01, eps: 1e-6 }), ps, { gradAccum: K, schedule, maxGradNorm: 1 });
      for (let k = 0; k < 2; k++) {
        const r = await opt.run(k, { count: K, firstIndex: k * K, feeds: (m) => microBatch(k * K + m), onResult: (x) => losses.push(x.loss) });
        losses.push(r.loss, r.grad_norm);
      }
      // an in-graph step takes exactly K micro-batches
      if (microBatches > 1) {
        await assert.rejects(opt.run(2, { count: 1, firstIndex: 0, feeds: microBatch }), (e: unknown) => e instanceof BertError && /exactly 2 micro-batches at once, got 1/.test(e.message));
      }
    } finally {
      await step.dispose();
    }
    return { ps, losses };
  };
  const host = await update(1);
  const inGraph = await update(K);
  assert.deepEqual(inGraph.losses, host.losses);
  for (const [name, p] of host.ps) assert.deepEqual(inGraph.ps.get(name)!.data, p.data, name);
  assert.notDeepEqual(host.ps.get('cls.predictions.bias')!.data, params().get('cls.predictions.bias')!.data);
});
