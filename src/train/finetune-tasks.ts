// Fine-tuning tasks: which reader, which output layer, which features and which metric each task
// name means; batches padded to their longest row; model outputs turned into metrics and into one
// prediction record per input.
import { BertError } from '../errors.ts';
import { buildChoiceFeatures, type EncodedRow } from '../data/tasks/choice-features.ts';
import { readConll } from '../data/tasks/conll.ts';
import { readColumns, type ColumnOptions } from '../data/tasks/generic.ts';
import { GLUE_LAYOUTS, isGlueTask, readGlue, GLUE_TASKS, type GlueTaskName } from '../data/tasks/glue.ts';
import { buildLabelMap, buildTagMap, LabelMap } from '../data/tasks/labels.ts';
import { readSquad } from '../data/tasks/squad.ts';
import { buildSquadFeatures, postprocessSquad, squadV2Answers, type SquadFeature } from '../data/tasks/squad-features.ts';
import { readSwag } from '../data/tasks/swag.ts';
import { alignTokenLabels, wordPredictions } from '../data/tasks/token-classification.ts';
import { IGNORE_INDEX, type PieceTokenizer } from '../data/tasks/tokenizer.ts';
import type { ChoiceExample, SquadExample, TaggedSentence, TextExample } from '../data/tasks/types.ts';
import { batchFeeds } from '../inference/batching.ts';
import { softmax } from '../inference/postprocess.ts';
import type { HostTensor } from '../runtime/session.ts';
import { accuracy, f1Binary, f1Macro, glueMetrics, pearson, spearman } from './metrics/classification.ts';
import { entityScores } from './metrics/entities.ts';
import { squadV1, squadV2, type SquadArticle } from './metrics/squad.ts';
import type { TaskFamily } from './finetune-objectives.ts';

export const TASK_NAMES = [
  ...GLUE_TASKS, 'classification', 'pair-classification', 'regression', 'ner', 'token-classification', 'squad', 'squad2', 'multiple-choice',
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface TaskSpec {
  name: TaskName;
  family: TaskFamily;
  glue?: GlueTaskName;
  /** SQuAD v2.0: questions may have no answer. */
  squadV2?: boolean;
}

export function taskSpec(name: string): TaskSpec {
  if (isGlueTask(name)) return { name, glue: name, family: GLUE_LAYOUTS[name].labels === undefined ? 'regression' : 'classification' };
  switch (name) {
    case 'classification':
    case 'pair-classification':
      return { name, family: 'classification' };
    case 'regression':
      return { name, family: 'regression' };
    case 'ner':
    case 'token-classification':
      return { name, family: 'token-classification' };
    case 'squad':
    case 'squad2':
      return { name, family: 'question-answering', squadV2: name === 'squad2' };
    case 'multiple-choice':
      return { name, family: 'multiple-choice' };
  }
  throw new BertError(`unknown task ${JSON.stringify(name)}; tasks are ${TASK_NAMES.join(', ')}`);
}

/** A file's examples, by the shape the task's reader gives. */
export type TaskExamples =
  | { kind: 'text'; examples: TextExample[] }
  | { kind: 'tagged'; examples: TaggedSentence[] }
  | { kind: 'squad'; examples: SquadExample[] }
  | { kind: 'choice'; examples: ChoiceExample[] };

export function readTaskExamples(spec: TaskSpec, path: string, columns: ColumnOptions = {}): TaskExamples {
  if (spec.glue !== undefined) return { kind: 'text', examples: readGlue(spec.glue, path) };
  switch (spec.family) {
    case 'classification':
    case 'regression': {
      const examples = readColumns(path, columns);
      if (spec.name === 'pair-classification' && examples[0]!.text_b === undefined) {
        throw new BertError('pair-classification needs a second text column (sentence2, text_b, or --text-pair-column)', path);
      }
      return { kind: 'text', examples };
    }
    case 'token-classification':
      return { kind: 'tagged', examples: readConll(path) };
    case 'question-answering':
      return { kind: 'squad', examples: readSquad(path) };
    case 'multiple-choice':
      return { kind: 'choice', examples: readSwag(path) };
  }
}

/**
 * The label map fixed by the training data: GLUE's canonical order, the sorted labels of a
 * classification file, the sorted tags of a CoNLL file. Regression, QA and multiple choice have none.
 */
export function labelMapOf(spec: TaskSpec, train: TaskExamples): LabelMap | undefined {
  if (spec.family === 'classification' && train.kind === 'text') return buildLabelMap(train.examples, spec.glue && GLUE_LAYOUTS[spec.glue].labels);
  if (spec.family === 'token-classification' && train.kind === 'tagged') return buildTagMap(train.examples);
  return undefined;
}

/** One model input: a row (K rows for multiple choice) and its targets. */
export interface Feature {
  rows: EncodedRow[];
  /** Class id, regression target or right ending; undefined for unlabelled data. */
  label?: number;
  /** Token classification: a tag id per piece, IGNORE_INDEX off first pieces. */
  token_labels?: number[];
  word_ids?: Array<number | null>;
  /** QA: the window and its answer's pieces. */
  squad?: SquadFeature;
  example_index: number;
}

export interface FeatureOptions {
  max_seq_length: number;
  doc_stride?: number;
  max_query_length?: number;
  /** Whether targets are needed (QA marks answer windows only then). */
  training: boolean;
  /** Map labels to ids (default true); predict turns it off, so unlabelled or unseen labels pass. */
  labelled?: boolean;
}

export interface TaskData {
  spec: TaskSpec;
  examples: TaskExamples;
  features: Feature[];
  /** Messages worth showing (truncated words, skipped questions). */
  notes: string[];
}

const unpadded = (ids: number[], types: number[], mask: number[]): EncodedRow => {
  let n = mask.length;
  while (n > 0 && mask[n - 1] === 0) n--;
  return { input_ids: ids.slice(0, n), token_type_ids: types.slice(0, n), attention_mask: mask.slice(0, n) };
};

/** Features of a file's examples; `labels` maps class names or tags (an unseen one is an error naming its line). */
export function buildTaskFeatures(tokenizer: PieceTokenizer, data: TaskExamples, spec: TaskSpec, labels: LabelMap | undefined, o: FeatureOptions): TaskData {
  const notes: string[] = [];
  let features: Feature[];
  switch (data.kind) {
    case 'text':
      features = data.examples.map((ex, i) => {
        const e = tokenizer.encode(ex.text_a, ex.text_b, { max_length: o.max_seq_length });
        const f: Feature = { rows: [{ input_ids: e.input_ids, token_type_ids: e.token_type_ids, attention_mask: e.attention_mask }], example_index: i };
        if (o.labelled === false) return f;
        if (spec.family === 'regression') {
          const v = Number.parseFloat(ex.label);
          if (!Number.isFinite(v)) throw new BertError(`regression target ${JSON.stringify(ex.label)} is not a number`, ex.where);
          f.label = v;
        } else f.label = labels!.id(ex.label, ex.where);
        return f;
      });
      break;
    case 'tagged': {
      let lost = 0;
      features = data.examples.map((s, i) => {
        const tagIds = o.labelled === false ? undefined : s.tags.map((t) => labels!.id(t, s.where));
        const a = alignTokenLabels(tokenizer, s.words, tagIds, { max_length: o.max_seq_length });
        lost += a.words_without_pieces;
        return { rows: [unpadded(a.input_ids, a.token_type_ids, a.attention_mask)], token_labels: a.labels, word_ids: a.word_ids, example_index: i };
      });
      if (lost > 0) notes.push(`${lost} words kept no piece (truncated to ${o.max_seq_length} pieces, or dropped by the tokenizer): predicted as the first tag`);
      break;
    }
    case 'squad': {
      const built = buildSquadFeatures(tokenizer, data.examples, {
        max_seq_length: o.max_seq_length, doc_stride: o.doc_stride, max_query_length: o.max_query_length, training: o.training,
      });
      for (const s of built.skipped) notes.push(`skipped ${s.where}: ${s.reason}`);
      features = built.features.map((f) => ({
        rows: [unpadded(f.input_ids, f.token_type_ids, f.attention_mask)], squad: f, example_index: f.example_index,
      }));
      break;
    }
    case 'choice':
      features = buildChoiceFeatures(tokenizer, data.examples, { max_length: o.max_seq_length }).map((f, i) => ({ ...f, example_index: i }));
      break;
  }
  if (features.length === 0) throw new BertError('no features: every example was skipped');
  return { spec, examples: data, features, notes };
}

/** Rows per feature: K for multiple choice. */
export function numChoices(data: TaskData): number {
  return data.features[0]!.rows.length;
}

/** The longest row of a feature (what it costs in a padded batch). */
export function featureLength(f: Feature): number {
  return Math.max(...f.rows.map((r) => r.input_ids.length));
}

/** input_ids etc. (rows, S) padded with `padId` to the batch's longest row (batchFeeds), and the family's label inputs. */
export function collate(features: readonly Feature[], family: TaskFamily, withLabels: boolean, padId: number): Record<string, HostTensor> {
  const { feeds, seq: S } = batchFeeds(features.flatMap((f) => f.rows), padId);
  if (!withLabels) return feeds;
  const int = (shape: number[], data: BigInt64Array): HostTensor => ({ dtype: 'int64', shape, data });
  const B = features.length;
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new BertError(`a training feature has no ${what}`);
    return v;
  };
  switch (family) {
    case 'regression':
      feeds.labels = { dtype: 'float32', shape: [B], data: Float32Array.from(features, (f) => need(f.label, 'label')) };
      break;
    case 'classification':
    case 'multiple-choice':
      feeds.labels = int([B], BigInt64Array.from(features, (f) => BigInt(need(f.label, 'label'))));
      break;
    case 'token-classification': {
      const labels = new BigInt64Array(B * S).fill(BigInt(IGNORE_INDEX));
      features.forEach((f, b) => need(f.token_labels, 'tags').forEach((t, s) => (labels[b * S + s] = BigInt(t))));
      feeds.labels = int([B, S], labels);
      break;
    }
    case 'question-answering':
      feeds.start_positions = int([B], BigInt64Array.from(features, (f) => BigInt(need(f.squad, 'answer').start_position)));
      feeds.end_positions = int([B], BigInt64Array.from(features, (f) => BigInt(need(f.squad, 'answer').end_position)));
      break;
  }
  return feeds;
}

/** The forward outputs of one feature: logits (C), a value, piece logits (S * C), or start/end logits (S). */
export interface FeatureOutput {
  logits?: Float32Array;
  value?: number;
  start?: Float32Array;
  end?: Float32Array;
}

/** Splits a batch's outputs into one FeatureOutput per feature, each cut to the feature's own length (copies). */
export function splitOutputs(features: readonly Feature[], family: TaskFamily, out: Record<string, HostTensor>, numLabels: number): FeatureOutput[] {
  return features.map((f, b) => {
    const n = f.rows[0]!.input_ids.length;
    switch (family) {
      case 'regression':
        return { value: Number(out.logits!.data[b]) };
      case 'classification':
      case 'multiple-choice':
        return { logits: Float32Array.from((out.logits!.data as Float32Array).subarray(b * numLabels, (b + 1) * numLabels)) };
      case 'token-classification': {
        const seq = (out.logits!.shape[0] as number) / features.length;
        return { logits: Float32Array.from((out.logits!.data as Float32Array).subarray(b * seq * numLabels, (b * seq + n) * numLabels)) };
      }
      case 'question-answering': {
        const s = out.start_logits!.shape[1] as number;
        const row = (t: HostTensor) => Float32Array.from((t.data as Float32Array).subarray(b * s, b * s + n));
        return { start: row(out.start_logits!), end: row(out.end_logits!) };
      }
    }
  });
}

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

/** Tags that read as chunks (IOB1/IOB2/IOBES): entity-level F1 is their main metric; other tags (POS) use accuracy. */
function isChunkTagset(labels: LabelMap): boolean {
  return labels.labels.every((t) => t === 'O' || /^[BIESLU]-./.test(t));
}

export interface TaskScores {
  metrics: Record<string, number>;
  /** The key of `metrics` that selects checkpoints. */
  main: string;
}

export interface PostprocessOptions {
  /** SQuAD v2.0: answer '' when the no-answer score beats the best span by more than this. */
  null_threshold?: number;
}

/** Per-example predictions of a task: class ids, values, word tags, answers, chosen endings. */
interface Decoded {
  classes?: number[];
  probabilities?: number[][];
  values?: number[];
  tags?: number[][];
  answers?: ReturnType<typeof postprocessSquad>;
}

function decode(data: TaskData, outputs: readonly FeatureOutput[], labels: LabelMap | undefined): Decoded {
  const { family } = data.spec;
  switch (family) {
    case 'regression':
      return { values: outputs.map((o) => o.value!) };
    case 'classification':
    case 'multiple-choice': {
      const probabilities = outputs.map((o) => softmax(o.logits!));
      return { probabilities, classes: probabilities.map(argmax) };
    }
    case 'token-classification': {
      const C = labels!.size;
      const fallback = labels!.labels.includes('O') ? labels!.id('O') : 0;
      const sentences = (data.examples as { examples: TaggedSentence[] }).examples;
      const tags = data.features.map((f, i) => {
        const logits = outputs[i]!.logits!;
        const piece = Array.from({ length: logits.length / C }, (_, t) => argmax(logits.subarray(t * C, (t + 1) * C)));
        return wordPredictions(f.word_ids!, piece, sentences[f.example_index]!.words.length, fallback);
      });
      return { tags };
    }
    case 'question-answering': {
      const examples = (data.examples as { examples: SquadExample[] }).examples;
      return {
        answers: postprocessSquad(examples, data.features.map((f) => f.squad!), outputs.map((o) => ({ start: o.start!, end: o.end! }))),
      };
    }
  }
}

/** The task's metrics on labelled data, as the reference scripts compute them. */
export function scoreTask(data: TaskData, outputs: readonly FeatureOutput[], labels: LabelMap | undefined, opts: PostprocessOptions = {}): TaskScores {
  const spec = data.spec;
  const d = decode(data, outputs, labels);
  const gold = data.features.map((f) => f.label!);
  switch (spec.family) {
    case 'classification':
    case 'regression': {
      const preds = spec.family === 'regression' ? d.values! : d.classes!;
      if (spec.glue !== undefined) {
        const metrics = glueMetrics(spec.glue, preds, gold);
        return { metrics, main: Object.keys(metrics)[0]! };
      }
      if (spec.family === 'regression') return { metrics: { pearson: pearson(preds, gold), spearmanr: spearman(preds, gold) }, main: 'pearson' };
      const f1 = labels!.size === 2 ? f1Binary(preds, gold) : f1Macro(preds, gold);
      return { metrics: { accuracy: accuracy(preds, gold), [labels!.size === 2 ? 'f1' : 'f1_macro']: f1 }, main: 'accuracy' };
    }
    case 'multiple-choice':
      return { metrics: { accuracy: accuracy(d.classes!, gold) }, main: 'accuracy' };
    case 'token-classification': {
      const sentences = (data.examples as { examples: TaggedSentence[] }).examples;
      const predTags = d.tags!.map((s) => s.map((id) => labels!.label(id)));
      const goldTags = sentences.map((s) => s.tags);
      let right = 0;
      let total = 0;
      goldTags.forEach((g, i) => g.forEach((t, w) => ((right += t === predTags[i]![w] ? 1 : 0), total++)));
      const acc = right / total;
      if (!isChunkTagset(labels!)) return { metrics: { accuracy: acc }, main: 'accuracy' };
      const e = entityScores(goldTags, predTags);
      return { metrics: { f1: e.f1, precision: e.precision, recall: e.recall, accuracy: acc }, main: 'f1' };
    }
    case 'question-answering': {
      const examples = (data.examples as { examples: SquadExample[] }).examples;
      const dataset: SquadArticle[] = [{ paragraphs: [{ qas: examples.map((e) => ({ id: e.id, answers: e.answers })) }] }];
      if (!spec.squadV2) {
        const answers = Object.fromEntries(d.answers!.map((p) => [p.id, p.best.text]));
        const r = squadV1(dataset, answers);
        return { metrics: { exact_match: r.exact_match, f1: r.f1 }, main: 'f1' };
      }
      const { answers, null_odds } = squadV2Answers(d.answers!, opts.null_threshold ?? 0);
      const { missing: _missing, ...r } = squadV2(dataset, answers, null_odds);
      const metrics = Object.fromEntries(Object.entries(r).filter((e): e is [string, number] => typeof e[1] === 'number'));
      return { metrics, main: 'best_f1' };
    }
  }
}

/** One JSON-able record per input example, in input order. */
export function predictionRecords(data: TaskData, outputs: readonly FeatureOutput[], labels: LabelMap | undefined, opts: PostprocessOptions = {}): Array<Record<string, unknown>> {
  const d = decode(data, outputs, labels);
  switch (data.spec.family) {
    case 'regression':
      return d.values!.map((value) => ({ value }));
    case 'classification':
      return d.classes!.map((c, i) => ({
        label: labels!.label(c),
        probabilities: Object.fromEntries(labels!.labels.map((l, k) => [l, d.probabilities![i]![k]])),
      }));
    case 'multiple-choice':
      return d.classes!.map((c, i) => ({ label: c, probabilities: d.probabilities![i] }));
    case 'token-classification': {
      const sentences = (data.examples as { examples: TaggedSentence[] }).examples;
      return d.tags!.map((t, i) => ({ words: sentences[i]!.words, tags: t.map((id) => labels!.label(id)) }));
    }
    case 'question-answering': {
      const threshold = opts.null_threshold ?? 0;
      return d.answers!.map((p) => {
        const noAnswer = data.spec.squadV2 === true && p.null_score - p.best.score > threshold;
        return noAnswer
          ? { id: p.id, answer: '', start: null, end: null, score: p.null_score, null_score_diff: p.null_score - p.best.score }
          : { id: p.id, answer: p.best.text, start: p.best.start, end: p.best.end, score: p.best.score, probability: p.nbest[0]?.probability ?? 0 };
      });
    }
  }
}
