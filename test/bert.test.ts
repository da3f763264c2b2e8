import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { bertInputs, bertModel, newContext, preTrainingHeads } from '../src/model/bert.ts';
import { ModelRunner } from '../src/model/runner.ts';
import type { HostTensor } from '../src/runtime/session.ts';

// Expected values come from scripts/make_bert_fixtures.py: torch's own TransformerEncoderLayer stack.
const FIXTURE = new URL('../fixtures/bert-tiny/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${FIXTURE}expected.json`, 'utf8')) as {
  inputs: Record<'input_ids' | 'token_type_ids' | 'attention_mask' | 'masked_lm_positions', number[][]>;
  last_hidden_state: number[][][];
  pooler_output: number[][];
  mlm_logits: number[][][];
  nsp_logits: number[][];
};

const ints = (rows: number[][]): HostTensor => ({
  dtype: 'int64',
  shape: [rows.length, rows[0]!.length],
  data: BigInt64Array.from(rows.flat(), BigInt),
});

function maxAbsDiff(actual: ArrayLike<number>, want: number[]): number {
  assert.equal(actual.length, want.length, 'element count');
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(actual[i]! - want[i]!));
  return m;
}

async function forward(folder: string) {
  const ckpt = loadCheckpoint(folder);
  const ctx = newContext(ckpt.config, { training: false });
  const inputs = bertInputs(ctx);
  const out = bertModel(ctx, inputs);
  const positions = ctx.graph.input('masked_lm_positions', 'int64', ['batch', 'masked']);
  const heads = preTrainingHeads(ctx, out, positions, inputs.input_ids);
  const runner = await ModelRunner.create(ctx, {
    last_hidden_state: out.last_hidden_state,
    pooler_output: out.pooler_output,
    prediction_logits: heads.prediction_logits,
    seq_relationship_logits: heads.seq_relationship_logits,
  });
  const e = expected.inputs;
  return runner.run(
    { input_ids: ints(e.input_ids), token_type_ids: ints(e.token_type_ids), attention_mask: ints(e.attention_mask), masked_lm_positions: ints(e.masked_lm_positions) },
    ckpt.tensors,
  );
}

/** The fixture folder without model.safetensors, so the loader falls back to pytorch_model.bin. */
function binOnlyFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bert-bin-'));
  copyFileSync(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(FIXTURE, 'pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
  return dir;
}

describe('BERT forward matches the PyTorch reference (fixtures/bert-tiny)', () => {
  for (const [label, folder] of [
    ['model.safetensors', () => FIXTURE],
    ['pytorch_model.bin', binOnlyFolder],
  ] as const) {
    test(`from ${label}: hidden states, pooled output, MLM and NSP logits within 1e-4`, async () => {
      const r = await forward(folder());
      assert.ok(maxAbsDiff(r.last_hidden_state!.data as Float32Array, expected.last_hidden_state.flat(2)) < 1e-4, 'last_hidden_state');
      assert.ok(maxAbsDiff(r.pooler_output!.data as Float32Array, expected.pooler_output.flat()) < 1e-4, 'pooler_output');
      assert.ok(maxAbsDiff(r.prediction_logits!.data as Float32Array, expected.mlm_logits.flat(2)) < 1e-4, 'MLM logits');
      assert.ok(maxAbsDiff(r.seq_relationship_logits!.data as Float32Array, expected.nsp_logits.flat()) < 1e-4, 'NSP logits');
    });
  }
});
