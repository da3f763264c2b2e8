import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { compileInference, type GraphOptions } from '../src/inference/graph.ts';
import { quantizeWeight } from '../src/inference/quantize.ts';
import { makeConfig, type BertConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { FIXTURE } from './helpers/tiny-model.ts';

const ints = (rows: number[][]): HostTensor => ({ dtype: 'int64', shape: [rows.length, rows[0]!.length], data: BigInt64Array.from(rows.flat(), BigInt) });

/** Every hidden state and the pooled output of one graph variant. */
async function states(config: BertConfig, weights: ReadonlyMap<string, FloatTensor>, feeds: Record<string, HostTensor>, opts: GraphOptions): Promise<Record<string, Float32Array>> {
  const layers = Array.from({ length: config.num_hidden_layers + 1 }, (_, i) => i);
  const g = await compileInference(config, weights, { kind: 'states', layers, pooler: true }, { ...opts, threads: 1 });
  const r = await g.run(feeds);
  await g.dispose();
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A random BERT of the mini shape (L4/H256/A4/I1024), small vocabulary to keep it quick. */
function randomMini(std = 0.02): { config: BertConfig; weights: Map<string, FloatTensor> } {
  const config = makeConfig('mini', { vocab_size: 1000, max_position_embeddings: 128, initializer_range: std });
  return { config, weights: initParams(bertParameterShapes(config, 'none'), config, 3) };
}

function randomFeeds(B: number, S: number, vocab: number, seed: number): Record<string, HostTensor> {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  const ids: number[][] = [];
  const types: number[][] = [];
  const mask: number[][] = [];
  for (let b = 0; b < B; b++) {
    const len = S - ((b * 7) % Math.max(1, S - 2)); // every row a different amount of padding
    ids.push(Array.from({ length: S }, (_, s) => (s < len ? next() % vocab : 0)));
    types.push(Array.from({ length: S }, (_, s) => (s >= len / 2 && s < len ? 1 : 0)));
    mask.push(Array.from({ length: S }, (_, s) => (s < len ? 1 : 0)));
  }
  return { input_ids: ints(ids), token_type_ids: ints(types), attention_mask: ints(mask) };
}

describe('fused graph (com.microsoft kernels) equals the unfused graph', () => {
  test('fixtures/bert-tiny: every hidden state and the pooled output within 1e-4 (padding, two segments)', async (t) => {
    const ck = loadCheckpoint(FIXTURE);
    const e = (JSON.parse(readFileSync(`${FIXTURE}expected.json`, 'utf8')) as { inputs: Record<string, number[][]> }).inputs;
    const feeds = { input_ids: ints(e.input_ids!), token_type_ids: ints(e.token_type_ids!), attention_mask: ints(e.attention_mask!) };
    const plain = await states(ck.config, ck.tensors, feeds, { fused: false });
    const fused = await states(ck.config, ck.tensors, feeds, { fused: true });
    const worst = Math.max(...Object.keys(plain).map((k) => maxAbsDiff(plain[k]!, fused[k]!)));
    t.diagnostic(`max abs diff ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `max abs diff ${worst}`);
  });

  test('random mini-size model (L4/H256/A4, weights std 0.1), batch 4 x seq 24: within 1e-4', async (t) => {
    const { config, weights } = randomMini(0.1);
    const feeds = randomFeeds(4, 24, config.vocab_size, 11);
    const plain = await states(config, weights, feeds, { fused: false });
    const fused = await states(config, weights, feeds, { fused: true });
    const worst = Math.max(...Object.keys(plain).map((k) => maxAbsDiff(plain[k]!, fused[k]!)));
    t.diagnostic(`max abs diff ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-4, `max abs diff ${worst}`);
  });
});

describe('int8 dynamic quantization', () => {
  test('per-output-channel symmetric weights, transposed to (in, out): hand-worked', () => {
    // W (out 2, in 3): row 0 max |.| = 1.27 -> scale 0.01; row 1 max 0.254 -> scale 0.002
    const { q, scale } = quantizeWeight(new Float32Array([1.27, -0.5, 0.004, 0.254, 0.001, -0.1]), 2, 3);
    assert.deepEqual(Array.from(scale, (s) => +s.toFixed(6)), [0.01, 0.002]);
    assert.deepEqual(Array.from(q), [127, 127, -50, 1, 0, -50]);
  });

  // Weights at std 0.1 rather than BERT's 0.02: at 0.02 the random model's states are so dominated by
  // the embeddings that int8 error hardly shows (cosine 1.00000), which would prove little.
  test('random mini-size model (weights std 0.1): int8 last hidden states at cosine >= 0.99 to fp32, per token, fused and unfused', async (t) => {
    const { config, weights } = randomMini(0.1);
    const feeds = randomFeeds(4, 24, config.vocab_size, 5);
    const fp32 = await states(config, weights, feeds, { fused: true });
    const L = `hidden.${config.num_hidden_layers}`;
    const H = config.hidden_size;
    for (const fused of [true, false]) {
      const int8 = await states(config, weights, feeds, { fused, quantize: 'int8' });
      let worst = 1;
      for (let r = 0; r < fp32[L]!.length / H; r++) {
        const a = fp32[L]!.subarray(r * H, (r + 1) * H);
        const b = int8[L]!.subarray(r * H, (r + 1) * H);
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let h = 0; h < H; h++) {
          dot += a[h]! * b[h]!;
          na += a[h]! ** 2;
          nb += b[h]! ** 2;
        }
        worst = Math.min(worst, dot / Math.sqrt(na * nb));
      }
      t.diagnostic(`fused ${fused}: worst per-token cosine ${worst.toFixed(5)}`);
      assert.ok(worst >= 0.99, `fused ${fused}: worst cosine ${worst}`);
      assert.ok(maxAbsDiff(fp32[L]!, int8[L]!) > 0, 'int8 changed nothing: not quantized?');
    }
  });
});
