// Model inputs of fine-tuning tasks and their batches, no file access (the browser build uses this):
// features, batches padded to their longest row with the family's label inputs, outputs split back.
import { BertError } from '../errors.ts';
import type { EncodedRow } from '../data/tasks/choice-features.ts';
import type { LabelMap } from '../data/tasks/labels.ts';
import type { SquadFeature } from '../data/tasks/squad-features.ts';
import { IGNORE_INDEX, type PieceTokenizer } from '../data/tasks/tokenizer.ts';
import type { TextExample } from '../data/tasks/types.ts';
import { batchFeeds } from '../inference/batching.ts';
import type { HostTensor } from '../runtime/session.ts';
import type { TaskFamily } from './finetune-objectives.ts';

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

/**
 * Features of text (pair) examples truncated to `maxSeqLength` pieces; with `labelled`, class ids
 * from `labels` (an unseen label is an error naming its line) or regression targets.
 */
export function textFeatures(
  tokenizer: PieceTokenizer, examples: readonly TextExample[], family: TaskFamily, labels: LabelMap | undefined, maxSeqLength: number, labelled: boolean,
): Feature[] {
  return examples.map((ex, i) => {
    const e = tokenizer.encode(ex.text_a, ex.text_b, { max_length: maxSeqLength });
    const f: Feature = { rows: [{ input_ids: e.input_ids, token_type_ids: e.token_type_ids, attention_mask: e.attention_mask }], example_index: i };
    if (!labelled) return f;
    if (family === 'regression') {
      const v = Number.parseFloat(ex.label);
      if (!Number.isFinite(v)) throw new BertError(`regression target ${JSON.stringify(ex.label)} is not a number`, ex.where);
      f.label = v;
    } else f.label = labels!.id(ex.label, ex.where);
    return f;
  });
}

/** Rows per feature: K for multiple choice. */
export function numChoices(data: { features: readonly Feature[] }): number {
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
