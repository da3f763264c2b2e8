// `bert eval` and `bert predict`: a fine-tuned model folder run over a task file, with the features
// built as training built them (FeatureFlags), scored or turned into one record per input.
import { loadCheckpoint } from '../checkpoint/folder.ts';
import { loadWeights } from '../checkpoint/weights.ts';
import { LabelMap } from '../data/tasks/labels.ts';
import { BertError } from '../errors.ts';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import type { FeatureFlags } from './finetune.ts';
import { ForwardRunner, taskHead } from './finetune-forward.ts';
import { headParameters } from './finetune-objectives.ts';
import { buildTaskFeatures, predictionRecords, readTaskExamples, scoreTask, taskSpec, type FeatureOutput, type TaskData, type TaskScores } from './finetune-tasks.ts';

export interface RunOptions extends FeatureFlags {
  model: string;
  task: string;
  data: string;
  batchSize?: number;
  /** SQuAD v2.0: answer '' when the no-answer score beats the best span by more than this (default 0). */
  nullThreshold?: number;
  threads?: number;
  onMessage?: (m: string) => void;
}

async function runOnFile(o: RunOptions, labelled: boolean): Promise<{ data: TaskData; outputs: FeatureOutput[]; labels: LabelMap | undefined }> {
  const spec = taskSpec(o.task);
  const ckpt = loadCheckpoint(o.model);
  const tokenizer = BertTokenizer.fromDirectory(o.model);
  const needsLabels = spec.family === 'classification' || spec.family === 'token-classification';
  let labels: LabelMap | undefined;
  if (needsLabels) {
    if (ckpt.config.id2label === undefined) throw new BertError(`config.json has no id2label: fine-tune this model for ${spec.name} first`, o.model);
    labels = LabelMap.fromConfig({ id2label: Object.fromEntries(Object.entries(ckpt.config.id2label).map(([k, v]) => [String(k), v])) });
  }
  const data = buildTaskFeatures(tokenizer, readTaskExamples(spec, o.data, o.columns), spec, labels, {
    max_seq_length: o.maxSeqLength, doc_stride: o.docStride, max_query_length: o.maxQueryLength, training: false, labelled,
  });
  for (const n of data.notes) o.onMessage?.(n);
  const head = taskHead(spec, labels, data);
  const params = loadWeights(ckpt, { ...headParameters(ckpt.config, head), config: ckpt.config, seed: 0, say: o.onMessage ?? (() => {}) }).params;
  const forward = await ForwardRunner.compile(ckpt.config, head, { padId: tokenizer.specialIds.pad, threads: o.threads });
  try {
    return { data, outputs: await forward.run(data, params, o.batchSize ?? 32), labels };
  } finally {
    await forward.dispose();
  }
}

/** `bert eval`: the task's metrics of a fine-tuned folder on a labelled file. */
export async function evaluateModel(o: RunOptions): Promise<TaskScores & { examples: number }> {
  const { data, outputs, labels } = await runOnFile(o, true);
  return { ...scoreTask(data, outputs, labels, { null_threshold: o.nullThreshold }), examples: data.examples.examples.length };
}

/** `bert predict`: one record per input example, in order (labels in the file, if any, are ignored). */
export async function predictRecords(o: RunOptions): Promise<Array<Record<string, unknown>>> {
  const { data, outputs, labels } = await runOnFile(o, false);
  return predictionRecords(data, outputs, labels, { null_threshold: o.nullThreshold });
}
