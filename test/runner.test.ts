import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { BertError } from '../src/errors.ts';
import { buildInferenceGraph } from '../src/inference/graph.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { makeConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { ModelRunner, type ParamTensor } from '../src/model/runner.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { finetuneObjective } from '../src/train/finetune-objectives.ts';
import { ForwardRunner } from '../src/train/finetune-forward.ts';
import { TrainStep } from '../src/train/step.ts';

// Every way parameters reach a graph (ModelRunner, the training step, the fine-tuning forward runner,
// weights frozen into an inference graph) goes through one shape check with one message.
const config = makeConfig({ vocab_size: 23, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 16 });
const head = { family: 'classification' as const, numLabels: 2 };
const i64 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'int64', shape, data: BigInt64Array.from(v, BigInt) });
const feeds = { input_ids: i64([1, 3], [2, 5, 3]), token_type_ids: i64([1, 3], [0, 0, 0]), attention_mask: i64([1, 3], [1, 1, 1]) };
const NAME = 'bert.encoder.layer.0.intermediate.dense.weight';

function paramsWithWrongShape(): Map<string, ParamTensor> {
  const params = initParams(bertParameterShapes(config, 'sequence_classification', 2), config, 1);
  params.set(NAME, { shape: [8, 12], data: new Float32Array(96) }); // the model's is [12, 8]: same size, transposed
  return params;
}
const namesBoth = (err: unknown) => err instanceof BertError && err.message === `parameter '${NAME}' has shape [8,12], the model expects [12,8]`;
const namesMissing = (err: unknown) => err instanceof BertError && err.message === `missing parameter '${NAME}'`;

test('ModelRunner: a wrong-shaped parameter is an error naming it and both shapes; a missing one names it', async () => {
  const ctx = newContext(config, { training: false });
  const out = bertModel(ctx, bertInputs(ctx));
  const runner = await ModelRunner.create(ctx, { last_hidden_state: out.last_hidden_state }, { threads: 1 });
  try {
    const params = paramsWithWrongShape();
    await assert.rejects(runner.run(feeds, params), namesBoth);
    params.delete(NAME);
    await assert.rejects(runner.run(feeds, params), namesMissing);
  } finally {
    await runner.dispose();
  }
});

test('TrainStep and the fine-tuning ForwardRunner: the same error for a wrong-shaped parameter', async () => {
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: 0, threads: 1 });
  const forward = await ForwardRunner.compile(config, head, { padId: 0, threads: 1 });
  try {
    await assert.rejects(step.run({ ...feeds, labels: i64([1], [1]) }, paramsWithWrongShape(), 0), namesBoth);
    const data = { features: [{ example_index: 0, rows: [{ input_ids: [2, 5, 3], token_type_ids: [0, 0, 0], attention_mask: [1, 1, 1] }] }] };
    await assert.rejects(forward.run(data as never, paramsWithWrongShape(), 1), namesBoth);
  } finally {
    await step.dispose();
    await forward.dispose();
  }
});

test('weights frozen into an inference graph: the same error for a wrong-shaped weight', () => {
  assert.throws(() => buildInferenceGraph(config, paramsWithWrongShape(), { kind: 'states', layers: [1], pooler: false }, { fused: false }), namesBoth);
});
