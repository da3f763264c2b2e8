import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { newContext } from '../src/model/bert.ts';
import type { ParamTensor } from '../src/model/runner.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { fillKeepMask } from '../src/train/dropout.ts';
import { preTrainingObjective } from '../src/train/objectives.ts';
import { TrainStep } from '../src/train/step.ts';

const config = makeConfig({ vocab_size: 23, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 16 });
const B = 3;
const S = 7;
const P = 2;
const i64 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(v, BigInt) });

function batch(): Record<string, HostTensor> {
  return {
    input_ids: i64([B, S], [2, 5, 9, 3, 7, 3, 0, 2, 11, 4, 3, 6, 8, 3, 2, 14, 3, 0, 0, 0, 0]),
    token_type_ids: i64([B, S], [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
    attention_mask: i64([B, S], [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),
    masked_lm_positions: i64([B, P], [1, 4, 2, 5, 1, 0]),
    masked_lm_ids: i64([B, P], [6, 12, 19, 1, 4, -100]),
    next_sentence_label: i64([B], [0, 1, 0]),
  };
}

function toF64(params: Map<string, ParamTensor>): Map<string, ParamTensor> {
  return new Map([...params].map(([k, p]) => [k, { shape: p.shape, data: Float64Array.from(p.data) as unknown as Float32Array }]));
}

describe('pre-training step', () => {
  test('the gradient of MLM + NSP loss matches finite differences (float64, whole tiny model)', async () => {
    const ctx = newContext(config, { training: false, dtype: 'float64' });
    const objective = preTrainingObjective(config, { training: false, ctx });
    const shapes = new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]]));
    // a larger init than BERT's 0.02 so every path carries signal
    const params = toF64(initParams(shapes, { ...config, initializer_range: 0.5 }, 3));
    const step = await TrainStep.compile(objective, { seed: 0, threads: 1 });
    // float64 feeds: TrainStep feeds parameters as float32 by default, so build feeds by hand here
    const feedsFor = (ps: Map<string, ParamTensor>) => {
      const f: Record<string, HostTensor> = { ...batch() };
      for (const [k, p] of ps) f[k] = { dtype: 'float64', shape: p.shape, data: p.data as unknown as Float64Array };
      return f;
    };
    const compiled = (step as unknown as { compiled: { run(f: Record<string, HostTensor>): Promise<Record<string, HostTensor>> } }).compiled;
    const base = await compiled.run(feedsFor(params));
    const h = 1e-6;
    let worst = 0;
    let checked = 0;
    for (const [name, p] of params) {
      const g = base[`grad:${name}`]!.data as Float64Array;
      const x = p.data as unknown as Float64Array;
      for (const i of [0, Math.floor(x.length / 2), x.length - 1]) {
        const x0 = x[i]!;
        x[i] = x0 + h;
        const lp = Number((await compiled.run(feedsFor(params))).loss!.data[0]);
        x[i] = x0 - h;
        const lm = Number((await compiled.run(feedsFor(params))).loss!.data[0]);
        x[i] = x0;
        const fd = (lp - lm) / (2 * h);
        const scale = Math.max(Math.abs(fd), Math.abs(g[i]!), 1e-3);
        worst = Math.max(worst, Math.abs(fd - g[i]!) / scale);
        checked++;
      }
    }
    assert.ok(checked > 60, `checked ${checked} coordinates`);
    assert.ok(worst < 1e-6, `worst relative error ${worst.toExponential(2)}`);
  });

  test('same seed and step give the same dropout masks and losses; another step gives others', async () => {
    const objective = preTrainingObjective(config, { training: true });
    const shapes = new Map([...objective.ctx.params].map(([k, v]) => [k, v.shape as number[]]));
    const params = initParams(shapes, config, 1);
    const a = await TrainStep.compile(objective, { seed: 42 });
    const b = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 42 });
    const l0 = (await a.run(batch(), params, 0)).loss;
    assert.equal((await b.run(batch(), params, 0)).loss, l0, 'a second run with the same seed and step');
    assert.notEqual((await a.run(batch(), params, 1)).loss, l0, 'the next step draws other masks');
    const eval0 = await TrainStep.compile(preTrainingObjective(config, { training: false }), { seed: 42 });
    assert.notEqual((await eval0.run(batch(), params, 0)).loss, l0, 'dropout is on in training');
  });

  test('keep-masks drop at the requested rate and are a pure function of (seed, step, site)', () => {
    const m = new Uint8Array(200_001);
    fillKeepMask(m, 0.1, 7, 3, 2);
    const kept = m.reduce((s, x) => s + x, 0) / m.length;
    assert.ok(Math.abs(kept - 0.9) < 0.004, `keep rate ${kept}`); // 5 sigma at n = 200k
    const again = new Uint8Array(m.length);
    fillKeepMask(again, 0.1, 7, 3, 2);
    assert.deepEqual(again, m);
    fillKeepMask(again, 0.1, 7, 3, 3);
    assert.notDeepEqual(again, m);
  });
});

test('a step that trains only some parameters gives exactly their full-graph gradients and no others', async () => {
  const objective = preTrainingObjective(config, { training: true });
  const shapes = new Map([...objective.ctx.params].map(([k, v]) => [k, v.shape as number[]]));
  const params = initParams(shapes, { ...config, initializer_range: 0.5 }, 5);
  const all = await TrainStep.compile(objective, { seed: 9, threads: 1 });
  const trained = (name: string) => !name.startsWith('bert.');
  const some = await TrainStep.compile(preTrainingObjective(config, { training: true }), { seed: 9, threads: 1, trained });
  const full = await all.run(batch(), params, 0);
  const part = await some.run(batch(), params, 0);
  assert.equal(part.loss, full.loss);
  const kept = [...params.keys()].filter(trained);
  assert.ok(kept.length > 0 && kept.length < params.size, `${kept.length} of ${params.size} trained`);
  assert.deepEqual([...part.grads.keys()].sort(), kept.sort());
  for (const name of kept) assert.deepEqual(part.grads.get(name), full.grads.get(name), name);
  await all.dispose();
  await some.dispose();
});
