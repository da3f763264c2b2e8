import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { loadWeights } from '../src/checkpoint/weights.ts';
import { BertError } from '../src/errors.ts';
import { initParams } from '../src/model/init.ts';

const FIX = new URL('../fixtures/bert-tiny/', import.meta.url).pathname;

test('loadWeights: checkpoint tensors where present, seeded fresh ones for the new head, HF messages naming the folder', () => {
  const ck = loadCheckpoint(FIX);
  const shapes = bertParameterShapes(ck.config, 'sequence_classification', 3);
  const lines: string[] = [];
  const { params, match } = loadWeights(FIX, { shapes, modelName: 'BertForSequenceClassification', config: ck.config, seed: 7, say: (l) => lines.push(l) });
  assert.deepEqual([...params.keys()], [...shapes.keys()]);
  assert.deepEqual(match.missing, ['classifier.weight', 'classifier.bias']);
  assert.equal(match.unexpected.length, 7);
  const word = 'bert.embeddings.word_embeddings.weight';
  assert.deepEqual(params.get(word)!.data, ck.tensors.get(word)!.data);
  // The fresh head is what initParams draws for those names alone (per-name streams).
  const fresh = initParams(new Map([['classifier.weight', [3, 32]]]), ck.config, 7);
  assert.deepEqual(params.get('classifier.weight'), fresh.get('classifier.weight'));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, new RegExp(`checkpoint at ${FIX.replace(/\/$/, '')} were not used when initializing BertForSequenceClassification`));
  assert.match(lines[1]!, /newly initialized: classifier\.weight, classifier\.bias/);
});

test('loadWeights: writable copies leave the checkpoint untouched; no folder means all fresh, silently', () => {
  const ck = loadCheckpoint(FIX);
  const shapes = bertParameterShapes(ck.config, 'pretraining');
  const request = { shapes, modelName: 'BertForPreTraining', config: ck.config, seed: 3, say: () => assert.fail('no message expected') };
  const shared = loadWeights(ck, request).params;
  const own = loadWeights(ck, { ...request, writable: true }).params;
  const word = 'bert.embeddings.word_embeddings.weight';
  assert.equal(shared.get(word)!.data, ck.tensors.get(word)!.data);
  assert.notEqual(own.get(word)!.data, ck.tensors.get(word)!.data);
  own.get(word)!.data[0] = 123;
  assert.notEqual(ck.tensors.get(word)!.data[0], 123);
  const random = loadWeights(undefined, request);
  assert.deepEqual(random.params, initParams(shapes, ck.config, 3));
  assert.equal(random.match.missing.length, shapes.size);
});

test('loadWeights: a shape that differs from the model is an error naming the key and both shapes', () => {
  const ck = loadCheckpoint(FIX);
  const shapes = bertParameterShapes({ ...ck.config, intermediate_size: 40 }, 'pretraining');
  assert.throws(
    () => loadWeights(ck, { shapes, modelName: 'BertForPreTraining', config: ck.config, seed: 0, say: () => {} }),
    (err: unknown) => err instanceof BertError && /intermediate\.dense\.weight: checkpoint has \[37, 32\], model expects \[40, 32\]/.test(err.message) && err.message.includes(join(FIX, 'model.safetensors')),
  );
});
