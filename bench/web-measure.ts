// The measurements of bench/web.bench.ts, run the same way in Node (onnxruntime-node) and in the
// browser (onnxruntime-web, bundled by bench/web-worker.ts): no Node API here. A fine-tuning step
// (forward + backward graph, clipping, AdamW) and a classifier forward pass, random weights, full-length
// rows of varied token ids.
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { makeConfig, type BertConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { ModelRunner } from '../src/model/runner.ts';
import type { HostTensor } from '../src/runtime/session.ts';
import { finetuneForward, finetuneObjective } from '../src/train/finetune-objectives.ts';
import { AdamW } from '../src/train/optimizer.ts';
import { TrainStep } from '../src/train/step.ts';
import { applyUpdate } from '../src/train/update.ts';

export interface WebBenchCase {
  /** BERT-mini (L=4, H=256, A=4) with BERT's 30522-token vocabulary. */
  preset: 'mini';
  batch: number;
  seq: number;
  trainSteps: number;
  inferenceRuns: number;
}

export const WEB_BENCH_CASE: WebBenchCase = { preset: 'mini', batch: 8, seq: 128, trainSteps: 5, inferenceRuns: 10 };

function feeds(batch: number, seq: number): Record<string, HostTensor> {
  const ids = new BigInt64Array(batch * seq);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  const int = (shape: number[], data: BigInt64Array): HostTensor => ({ dtype: 'int64', shape, data });
  return {
    input_ids: int([batch, seq], ids),
    token_type_ids: int([batch, seq], new BigInt64Array(batch * seq)),
    attention_mask: int([batch, seq], new BigInt64Array(batch * seq).fill(1n)),
    labels: int([batch], BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % 2))),
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median step time and forward time (after one warm-up each), as steps/s and sequences/s. */
export async function measureWeb(c: WebBenchCase, threads?: number): Promise<Record<string, number>> {
  const config: BertConfig = makeConfig(c.preset, { vocab_size: 30522 });
  const head = { family: 'classification' as const, numLabels: 2 };
  const params = initParams(bertParameterShapes(config, 'sequence_classification', 2), config, 1);
  const batch = feeds(c.batch, c.seq);
  const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: 1, threads });
  const optimizer = new AdamW(params, { weightDecay: 0.01 });
  const schedule = { lr: 2e-5, steps: c.trainSteps + 1, warmup: 0 };
  const stepMs: number[] = [];
  for (let k = 0; k <= c.trainSteps; k++) {
    const t = performance.now();
    const r = await step.run(batch, params, k);
    applyUpdate(optimizer, r.grads, k, { schedule, maxGradNorm: 1 });
    if (k > 0) stepMs.push(performance.now() - t);
  }
  await step.dispose();
  const { ctx, outputs } = finetuneForward(config, head, { training: false });
  const forward = await ModelRunner.create(ctx, outputs, { threads });
  const { labels: _labels, ...inputs } = batch;
  const runMs: number[] = [];
  for (let k = 0; k <= c.inferenceRuns; k++) {
    const t = performance.now();
    await forward.run(inputs, params);
    if (k > 0) runMs.push(performance.now() - t);
  }
  await forward.dispose();
  const s = median(stepMs);
  const f = median(runMs);
  return { median_step_ms: Math.round(s), train_steps_per_second: +(1000 / s).toFixed(3), median_forward_ms: Math.round(f), inference_sequences_per_second: +((1000 * c.batch) / f).toFixed(1) };
}
