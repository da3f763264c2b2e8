import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bertParameterShapes, countParameters } from '../src/checkpoint/keys.ts';
import { configFromJson, configToJson, makeConfig, PRESETS, type BertConfig } from '../src/model/config.ts';
import { readConfigJson } from '../src/model/config-file.ts';
import { BertError } from '../src/errors.ts';

const fixtureConfig = new URL('../fixtures/bert-tiny/config.json', import.meta.url).pathname;

test('presets have the published sizes and 4H feed-forward', () => {
  const sizes = Object.fromEntries(Object.entries(PRESETS).map(([k, c]) => [k, [c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size]]));
  assert.deepEqual(sizes, {
    tiny: [2, 128, 2, 512],
    mini: [4, 256, 4, 1024],
    small: [4, 512, 8, 2048],
    medium: [8, 512, 8, 2048],
    base: [12, 768, 12, 3072],
    large: [24, 1024, 16, 4096],
  });
  for (const c of Object.values(PRESETS)) {
    assert.equal(c.max_position_embeddings, 512);
    assert.equal(c.type_vocab_size, 2);
    assert.equal(c.layer_norm_eps, 1e-12);
    assert.equal(c.vocab_size, 30522);
    assert.equal(c.hidden_act, 'gelu');
  }
});

test('parameter counts: BertModel base is the well-known 109,482,240; pre-training base/large near the paper\'s 110M/340M', () => {
  // 109,482,240 = embeddings 23,837,184 + 12 x 7,087,872 per layer + pooler 590,592 (HF bert-base-uncased).
  assert.equal(countParameters(bertParameterShapes(PRESETS.base, 'none')), 109_482_240);
  assert.equal(countParameters(bertParameterShapes(PRESETS.large, 'none')), 335_141_888);
  const base = countParameters(bertParameterShapes(PRESETS.base, 'pretraining'));
  const large = countParameters(bertParameterShapes(PRESETS.large, 'pretraining'));
  assert.ok(Math.abs(base / 110e6 - 1) < 0.02, `base ${base}`);
  assert.ok(Math.abs(large / 340e6 - 1) < 0.02, `large ${large}`);
  // pre-training adds the MLM transform (H^2 + 3H), its bias (V) and NSP (2H + 2) to BertModel
  const H = 768;
  assert.equal(base - 109_482_240, H * H + 3 * H + 30522 + 2 * H + 2);
});

test('makeConfig: presets with overrides, partial configs with HF defaults', () => {
  const c = makeConfig('tiny', { num_hidden_layers: 3 });
  assert.equal(c.num_hidden_layers, 3);
  assert.equal(c.hidden_size, 128);
  const p = makeConfig({ hidden_size: 64, num_attention_heads: 4, intermediate_size: 256 });
  assert.equal(p.num_hidden_layers, 12);
  assert.equal(p.vocab_size, 30522);
  assert.equal(p.model_type, 'bert');
});

test('invalid configs are rejected naming the field', () => {
  const cases: Array<[Partial<BertConfig>, RegExp]> = [
    [{ hidden_size: 100, num_attention_heads: 12 }, /hidden_size \(100\) must be divisible by num_attention_heads \(12\)/],
    [{ vocab_size: 0 }, /vocab_size must be a positive integer, got 0/],
    [{ num_hidden_layers: 1.5 }, /num_hidden_layers must be a positive integer/],
    [{ intermediate_size: -4 }, /intermediate_size must be a positive integer/],
    [{ hidden_act: 'swish' as BertConfig['hidden_act'] }, /hidden_act must be one of gelu, gelu_new, relu, got "swish"/],
    [{ hidden_dropout_prob: 1 }, /hidden_dropout_prob must be a number in \[0, 1\)/],
    [{ layer_norm_eps: 0 }, /layer_norm_eps must be a positive number/],
    [{ pad_token_id: 30522 }, /pad_token_id must be an integer in \[0, vocab_size\)/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(() => makeConfig('base', overrides), (err: unknown) => err instanceof BertError && message.test(err.message), JSON.stringify(overrides));
  }
  assert.throws(() => makeConfig('huge' as 'base'), /unknown preset "huge"; known presets: tiny, mini, small, medium, base, large/);
});

test('readConfigJson: the fixture config, HF defaults for missing keys', () => {
  const c = readConfigJson(fixtureConfig);
  assert.equal(c.hidden_size, 32);
  assert.equal(c.intermediate_size, 37);
  assert.deepEqual(c.architectures, ['BertForPreTraining']);
  assert.equal(c.extra, undefined);
  const d = configFromJson({ hidden_size: 64, num_attention_heads: 2 });
  assert.equal(d.num_hidden_layers, 12);
  assert.equal(d.layer_norm_eps, 1e-12);
  assert.equal(d.pad_token_id, 0);
});

test('config.json: unknown keys kept, id2label keys are numbers in memory and strings in JSON', () => {
  const json = {
    model_type: 'bert',
    hidden_size: 64,
    num_attention_heads: 4,
    id2label: { '0': 'NEGATIVE', '1': 'POSITIVE' },
    label2id: { NEGATIVE: 0, POSITIVE: 1 },
    transformers_version: '4.40.0',
    position_embedding_type: 'absolute',
  };
  const c = configFromJson(json);
  assert.deepEqual(c.id2label, { 0: 'NEGATIVE', 1: 'POSITIVE' });
  assert.equal(c.id2label![1], 'POSITIVE');
  assert.deepEqual(c.extra, { transformers_version: '4.40.0', position_embedding_type: 'absolute' });
  const back = JSON.parse(configToJson(c)) as Record<string, unknown>;
  assert.deepEqual(back.id2label, { '0': 'NEGATIVE', '1': 'POSITIVE' });
  assert.equal(back.transformers_version, '4.40.0');
  assert.equal(back.num_hidden_layers, 12);
  assert.deepEqual(configFromJson(back), c);
});

test('bad config files: bad JSON, other model types, bad id2label, missing file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-config-'));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(() => readConfigJson(write('a.json', '{"hidden_size": ')), (e: unknown) => e instanceof BertError && /a\.json: config is not valid JSON/.test(e.message));
  assert.throws(() => readConfigJson(write('b.json', '{"model_type": "gpt2"}')), /model_type is "gpt2", only "bert" is supported/);
  assert.throws(() => readConfigJson(write('c.json', '{"id2label": {"x": "A"}}')), /id2label entry "x"/);
  assert.throws(() => readConfigJson(write('d.json', '{"hidden_size": 30}')), /d\.json: invalid BERT config: hidden_size \(30\) must be divisible/);
  assert.throws(() => readConfigJson(join(dir, 'none.json')), /cannot read config/);
});
