// The encoder-stack training step that engine benchmarks and the measuring scripts share: a preset's
// BertModel (dropout on) with a simple loss on the last hidden state, and a synthetic full batch.
import * as op from '../src/graph/ops.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { makeConfig, type BertConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import type { ParamTensor } from '../src/model/runner.ts';
import type { HostTensor, SessionOptions } from '../src/runtime/session.ts';
import { TrainStep } from '../src/train/step.ts';

export interface EncoderStep {
  config: BertConfig;
  step: TrainStep;
  params: Map<string, ParamTensor>;
  sessionSeconds: number;
}

export async function encoderStep(preset: PresetName, opts: SessionOptions = {}): Promise<EncoderStep> {
  const config = makeConfig(preset);
  const ctx = newContext(config, { training: true });
  const out = bertModel(ctx, bertInputs(ctx));
  const loss = op.reduceMean(op.mul(out.last_hidden_state, out.last_hidden_state), [0, 1], false);
  const t0 = performance.now();
  const step = await TrainStep.compile({ ctx, loss, outputs: {} }, { seed: 1, ...opts });
  const sessionSeconds = (performance.now() - t0) / 1000;
  const params = initParams(new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]])), config, 1);
  return { config, step, params, sessionSeconds };
}

/** A full (unpadded) batch of B sequences of S tokens, two segments each. */
export function syntheticBatch(vocabSize: number, B: number, S: number): Record<string, HostTensor> {
  return {
    input_ids: { dtype: 'int64', shape: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 7919) % vocabSize)) },
    token_type_ids: { dtype: 'int64', shape: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => (i % S < S / 2 ? 0n : 1n)) },
    attention_mask: { dtype: 'int64', shape: [B, S], data: new BigInt64Array(B * S).fill(1n) },
  };
}
