// Fine-tuning throughput: one optimizer step (forward + backward as one ORT graph, clipping, AdamW)
// of BertForSequenceClassification at seq 128, random weights, full-length random token ids.
// mini (L=4 H=256) at batch 32; base (L=12 H=768) at batch 8 (base at 32 needs ~4x the memory
// and time per step and gives about the same examples/s on a 2-core machine).
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { finetuneObjective } from '../src/train/finetune-objectives.ts';
import { AdamW } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';
import { applyUpdate } from '../src/train/update.ts';

const SEQ = 128;

async function measure(preset: PresetName, batch: number, steps: number): Promise<Record<string, number>> {
  const config = makeConfig(preset, { vocab_size: 30522 });
  const head = { family: 'classification' as const, numLabels: 2 };
  const params = initParams(bertParameterShapes(config, 'sequence_classification', 2), config, 1);
  const t0 = performance.now();
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: 1 });
  const compileSeconds = (performance.now() - t0) / 1000;
  const optimizer = new AdamW(params, { weightDecay: 0.01 });
  const ids = new BigInt64Array(batch * SEQ);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  const int = (shape: number[], data: BigInt64Array): HostTensor => ({ dtype: 'int64', shape, data });
  const feeds = {
    input_ids: int([batch, SEQ], ids),
    token_type_ids: int([batch, SEQ], new BigInt64Array(batch * SEQ)),
    attention_mask: int([batch, SEQ], new BigInt64Array(batch * SEQ).fill(1n)),
    labels: int([batch], BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % 2))),
  };
  const schedule = { lr: 2e-5, steps: steps + 1, warmup: 0 };
  const once = async (k: number) => {
    const r = await step.run(feeds, params, k);
    applyUpdate(optimizer, r.grads, k, { schedule, maxGradNorm: 1 });
  };
  await once(0); // warm-up: ORT allocations, V8 JIT
  const ms: number[] = [];
  for (let k = 1; k <= steps; k++) {
    const t = performance.now();
    await once(k);
    ms.push(performance.now() - t);
  }
  await step.dispose();
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)]!;
  return { batch, seq: SEQ, steps_timed: steps, median_step_ms: Math.round(median), examples_per_second: +((1000 * batch) / median).toFixed(2), compile_seconds: +compileSeconds.toFixed(1) };
}

export async function run(): Promise<Record<string, unknown>> {
  return { mini: await measure('mini', 32, 5), base: await measure('base', 8, 3) };
}
