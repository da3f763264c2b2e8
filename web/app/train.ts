// Fine-tuning a sequence classifier in the page's worker: the loop of `bert finetune --task
// classification` (src/train/finetune.ts) on the same library pieces (features, epoch order, weight
// loading, training graph, OptimizerStep, ForwardRunner), so the same model, data and seed give the
// same losses as in Node. No file access: the model comes in as a ModelFolder.
import { encodeSafetensors } from '../../src/checkpoint/safetensors-format.ts';
import { zipStored } from '../../src/checkpoint/zip-write.ts';
import { weightsFrom } from '../../src/checkpoint/weights-from.ts';
import { buildLabelMap, type LabelMap } from '../../src/data/tasks/labels.ts';
import type { TextExample } from '../../src/data/tasks/types.ts';
import { epochOrder } from '../../src/data/random.ts';
import { BertError } from '../../src/errors.ts';
import { softmax } from '../../src/inference/postprocess.ts';
import { configToJson, type BertConfig } from '../../src/model/config.ts';
import type { ParamTensor } from '../../src/model/runner.ts';
import { OptimizerStep } from '../../src/train/accumulate.ts';
import { finetunedConfig } from '../../src/train/finetune-config.ts';
import { ForwardRunner } from '../../src/train/finetune-forward.ts';
import { finetuneObjective, headParameters, type FinetuneHead } from '../../src/train/finetune-objectives.ts';
import { AdamW } from '../../src/train/optimizer.ts';
import { checkSchedule, warmupFromRatio } from '../../src/train/schedule.ts';
import { TrainStep } from '../../src/train/step.ts';
import { collate, textFeatures, type Feature } from '../../src/train/task-batches.ts';
import type { ModelFolder } from './model-folder.ts';
import type { LabelScore, TrainSettings } from './protocol.ts';

const SPEC = { name: 'classification', family: 'classification' } as const;

export interface TrainEvents {
  onStart(info: { steps: number; train: number; dev: number; labels: string[] }): void;
  onStep(r: { step: number; steps: number; epoch: number; loss: number; lr: number }): Promise<void>;
  onEval(r: { step: number; epoch: number; accuracy: number }): void;
  onMessage(text: string): void;
  /** Asked before each step: true stops training (the model keeps the steps taken). */
  stopRequested(): boolean;
}

/** A fine-tuned classifier: its config (with id2label), parameters and tokenizer files. */
export class Classifier {
  private constructor(
    readonly config: BertConfig,
    readonly labels: LabelMap,
    readonly params: Map<string, ParamTensor>,
    private readonly forward: ForwardRunner,
    private readonly folder: ModelFolder,
    readonly maxSeqLength: number,
  ) {}

  /** Fine-tunes `folder`'s encoder with a fresh classification layer on `train`, scoring `dev` each epoch. */
  static async train(folder: ModelFolder, train: TextExample[], dev: TextExample[], s: TrainSettings, ev: TrainEvents): Promise<{ classifier: Classifier; steps: number; losses: number[]; stopped: boolean }> {
    if (s.maxSeqLength > folder.config.max_position_embeddings) {
      throw new BertError(`max sequence length ${s.maxSeqLength} is more than the model's max_position_embeddings ${folder.config.max_position_embeddings}`);
    }
    if (!(Number.isInteger(s.epochs) && s.epochs > 0)) throw new BertError(`epochs must be a positive integer, got ${s.epochs}`);
    if (!(Number.isInteger(s.batchSize) && s.batchSize > 0)) throw new BertError(`batch size must be a positive integer, got ${s.batchSize}`);
    const labels = buildLabelMap(train);
    if (labels.size < 2) throw new BertError(`the training set has one label (${labels.labels[0]}): a classifier needs at least two`);
    const trainFeatures = textFeatures(folder.tokenizer, train, SPEC.family, labels, s.maxSeqLength, true);
    const devFeatures = textFeatures(folder.tokenizer, dev, SPEC.family, labels, s.maxSeqLength, true);
    const head: FinetuneHead = { family: 'classification', numLabels: labels.size };
    const config = finetunedConfig(folder.config, SPEC, labels);
    const checkpoint = { tensors: folder.tensors, source: 'model.safetensors' };
    const { params } = weightsFrom(checkpoint, 'the opened folder', { ...headParameters(config, head), config, seed: s.seed, say: ev.onMessage, writable: true });
    const steps = Math.ceil(trainFeatures.length / s.batchSize) * s.epochs;
    const schedule = checkSchedule({ lr: s.lr, steps, warmup: warmupFromRatio(s.warmupRatio, steps) });
    const padId = folder.tokenizer.specialIds.pad;
    const step = await TrainStep.compile(finetuneObjective(config, head, { training: true }), { seed: s.seed });
    const forward = await ForwardRunner.compile(config, head, { padId });
    const classifier = new Classifier(config, labels, params, forward, folder, s.maxSeqLength);
    const update = new OptimizerStep(step, new AdamW(params, { weightDecay: s.weightDecay, eps: 1e-6 }), params, { gradAccum: 1, schedule, maxGradNorm: 1 });
    ev.onStart({ steps, train: trainFeatures.length, dev: devFeatures.length, labels: [...labels.labels] });
    const losses: number[] = [];
    let k = 0;
    let stopped = false;
    try {
      outer: for (let epoch = 0; epoch < s.epochs; epoch++) {
        const order = epochOrder(trainFeatures.length, s.seed, epoch);
        for (let start = 0; start < order.length; start += s.batchSize) {
          if (ev.stopRequested()) {
            stopped = true;
            break outer;
          }
          const batch = [...order.subarray(start, Math.min(order.length, start + s.batchSize))].map((i) => trainFeatures[i]!);
          const { loss, lr } = await update.run(k, { count: 1, firstIndex: k, feeds: () => collate(batch, head.family, true, padId) });
          k++;
          losses.push(loss);
          await ev.onStep({ step: k, steps, epoch: epoch + (start + batch.length) / order.length, loss, lr });
        }
        if (devFeatures.length > 0) ev.onEval({ step: k, epoch: epoch + 1, accuracy: await classifier.accuracy(devFeatures) });
      }
    } catch (err) {
      await classifier.dispose();
      throw err;
    } finally {
      await step.dispose();
    }
    return { classifier, steps: k, losses, stopped };
  }

  /** Class probabilities of each feature, in order. */
  private async probabilities(features: Feature[], batchSize = 32): Promise<number[][]> {
    return (await this.forward.run({ features }, this.params, batchSize)).map((o) => softmax(o.logits!));
  }

  private async accuracy(features: Feature[]): Promise<number> {
    const probs = await this.probabilities(features);
    let right = 0;
    probs.forEach((p, i) => (right += p.indexOf(Math.max(...p)) === features[i]!.label ? 1 : 0));
    return right / features.length;
  }

  /** Each text's labels, most probable first. */
  async classify(texts: readonly string[]): Promise<LabelScore[][]> {
    const examples = texts.map((t, i) => ({ text_a: t, label: '', where: `input ${i + 1}` }));
    const probs = await this.probabilities(textFeatures(this.folder.tokenizer, examples, 'classification', undefined, this.maxSeqLength, false));
    return probs.map((p) => p.map((score, id) => ({ label: this.labels.label(id), score })).sort((a, b) => b.score - a.score));
  }

  /** Frees the forward graph's session (its WASM memory). */
  async dispose(): Promise<void> {
    await this.forward.dispose();
  }

  /** The model folder as one zip: config.json (id2label), model.safetensors, the tokenizer files as opened. */
  zip(): Uint8Array {
    const { header, chunks } = encodeSafetensors(this.params);
    const weights = new Uint8Array(header.length + chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of [header, ...chunks]) {
      weights.set(c, at);
      at += c.length;
    }
    return zipStored([
      { name: 'config.json', data: new TextEncoder().encode(configToJson(this.config)) },
      { name: 'model.safetensors', data: weights },
      ...[...this.folder.tokenizerFiles].map(([name, data]) => ({ name, data })),
    ]);
  }
}
