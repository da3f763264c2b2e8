import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWeightCoverage, MAX_MISSING_FRACTION } from '../src/checkpoint/coverage.ts';
import { bertParameterShapes, matchState } from '../src/checkpoint/keys.ts';
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { configFromJson } from '../src/model/config.ts';
import { BertError } from '../src/errors.ts';

const config = (layers: number) => configFromJson({ vocab_size: 99, hidden_size: 32, num_hidden_layers: layers, num_attention_heads: 4, intermediate_size: 37, max_position_embeddings: 64 });
const tensorsOf = (shapes: ReadonlyMap<string, number[]>): Map<string, FloatTensor> =>
  new Map([...shapes].map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));

test('a fresh classification head on a pre-trained encoder passes (the HF warning case)', () => {
  const expected = bertParameterShapes(config(2), 'sequence_classification', 3);
  const encoder = tensorsOf(bertParameterShapes(config(2), 'none'));
  const match = matchState(expected, encoder);
  assert.deepEqual(match.missing, ['classifier.weight', 'classifier.bias']);
  checkWeightCoverage(expected, match, 'ckpt');
});

test('a 2-layer checkpoint beside a 40-layer config is refused in one line naming the share held and the limit', () => {
  const expected = bertParameterShapes(config(40), 'pretraining');
  const match = matchState(expected, tensorsOf(bertParameterShapes(config(2), 'pretraining')));
  // Held by hand: everything but layers 2..39.
  const layer = 4 * (32 * 32 + 32) + 2 * 32 + (37 * 32 + 37) + (32 * 37 + 32) + 2 * 32;
  const total = [...expected.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  const held = ((100 * (total - 38 * layer)) / total).toFixed(1);
  assert.throws(
    () => checkWeightCoverage(expected, match, 'dir/model.safetensors'),
    (e: unknown) => e instanceof BertError && !e.message.includes('\n') && e.message.startsWith(`dir/model.safetensors: checkpoint holds ${held}% of the ${total} parameters`) && e.message.includes(`at most ${100 * MAX_MISSING_FRACTION}% may be missing`),
  );
});

test('the limit is on parameters, not tensors: just under half missing passes, just over is refused', () => {
  const expected = new Map<string, number[]>([['a', [50]], ['b', [49]], ['c', [1]]]);
  checkWeightCoverage(expected, { missing: ['a'], unexpected: [] }, 'x');
  assert.throws(() => checkWeightCoverage(expected, { missing: ['a', 'c'], unexpected: [] }, 'x'), BertError);
  assert.throws(() => checkWeightCoverage(expected, { missing: ['a', 'b'], unexpected: [] }, 'x'), /holds 1\.0% of the 100 parameters the config describes \(2 tensors missing, first a\)/);
});
