// The fine-tuned model's forward pass (dropout off) for eval, predict and the dev set during training:
// the head a task's data needs, and a graph compiled once and run over features in length buckets.
import type { LabelMap } from '../data/tasks/labels.ts';
import { lengthBuckets } from '../inference/batching.ts';
import type { BertConfig } from '../model/config.ts';
import { ModelRunner, type ParamTensor } from '../model/runner.ts';
import { finetuneForward, type FinetuneHead } from './finetune-objectives.ts';
import { collate, featureLength, numChoices, splitOutputs, type FeatureOutput, type TaskData, type TaskSpec } from './finetune-tasks.ts';

/** The output layer a task needs: its label count (classes, 1 for regression, endings for multiple choice). */
export function taskHead(spec: TaskSpec, labels: LabelMap | undefined, data: TaskData): FinetuneHead {
  switch (spec.family) {
    case 'classification':
    case 'token-classification':
      return { family: spec.family, numLabels: labels!.size };
    case 'multiple-choice':
      return { family: spec.family, numLabels: numChoices(data) };
    default:
      return { family: spec.family, numLabels: 1 };
  }
}

/** A forward graph (dropout off) compiled once, run over features in length buckets. */
export class ForwardRunner {
  private constructor(
    private readonly runner: ModelRunner,
    readonly head: FinetuneHead,
    /** The tokenizer's [PAD] id, for padding batches as inference does. */
    private readonly padId: number,
  ) {}

  static async compile(config: BertConfig, head: FinetuneHead, opts: { padId: number; threads?: number }): Promise<ForwardRunner> {
    const { ctx, outputs } = finetuneForward(config, head, { training: false });
    return new ForwardRunner(await ModelRunner.create(ctx, outputs, { threads: opts.threads }), head, opts.padId);
  }

  /** One output per feature, in feature order. */
  async run(data: TaskData, params: ReadonlyMap<string, ParamTensor>, batchSize: number): Promise<FeatureOutput[]> {
    const lengths = data.features.map(featureLength);
    const maxLen = Math.max(...lengths);
    const out: FeatureOutput[] = new Array(data.features.length);
    for (const batch of lengthBuckets(lengths, { maxBatch: batchSize, maxTokens: batchSize * maxLen })) {
      const features = batch.map((i) => data.features[i]!);
      const r = await this.runner.run(collate(features, this.head.family, false, this.padId), params);
      splitOutputs(features, this.head.family, r, this.head.numLabels).forEach((o, k) => (out[batch[k]!] = o));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.runner.dispose();
  }
}
