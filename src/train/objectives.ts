// Training objectives as graphs: the model, its head, the loss, and counts for accuracy.
import type { Value } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { bertInputs, bertModel, newContext, preTrainingHeads, type ModelContext } from '../model/bert.ts';
import type { BertConfig } from '../model/config.ts';
import type { PretrainingBatch } from '../data/records.ts';
import type { HostTensor } from '../runtime/session.ts';
import type { TrainGraph } from './step.ts';

/** Labels equal to this are ignored by the losses (padding slots of masked_lm_ids). */
export const IGNORE_INDEX = -100;

/** Number of positions where argmax(logits) equals the label, over labels that are not ignored: a float scalar. */
export function correctCount(logits: Value, labels: Value): Value {
  const hit = op.equal(op.argMax(logits, -1), labels);
  return op.reduceSum(op.cast(hit, logits.dtype), [0], false);
}

function validCount(labels: Value, dtype: Value['dtype']): Value {
  return op.reduceSum(op.cast(op.not(op.equal(labels, IGNORE_INDEX)), dtype), [0], false);
}

/**
 * BertForPreTraining's objective: MLM cross-entropy (mean over the batch's real masked positions)
 * plus NSP cross-entropy (mean over the batch). Extra inputs: masked_lm_positions (B, P),
 * masked_lm_ids (B, P) with IGNORE_INDEX in padding slots, next_sentence_label (B).
 */
export function preTrainingObjective(config: BertConfig, opts: { training: boolean; ctx?: ModelContext }): TrainGraph {
  const ctx = opts.ctx ?? newContext(config, { training: opts.training });
  const g = ctx.graph;
  const inputs = bertInputs(ctx);
  const positions = g.input('masked_lm_positions', 'int64', ['batch', 'masked']);
  const maskedIds = op.reshape(g.input('masked_lm_ids', 'int64', ['batch', 'masked']), [-1]); // (B*P)
  const nspLabels = g.input('next_sentence_label', 'int64', ['batch']);
  const heads = preTrainingHeads(ctx, bertModel(ctx, inputs), positions, inputs.input_ids);
  const [mlmLoss] = op.softmaxCrossEntropy(heads.prediction_logits, maskedIds, IGNORE_INDEX);
  const [nspLoss] = op.softmaxCrossEntropy(heads.seq_relationship_logits, nspLabels, IGNORE_INDEX);
  return {
    ctx,
    loss: op.add(mlmLoss, nspLoss),
    outputs: {
      mlm_loss: mlmLoss,
      nsp_loss: nspLoss,
      mlm_correct: correctCount(heads.prediction_logits, maskedIds),
      mlm_count: validCount(maskedIds, ctx.dtype),
      nsp_correct: correctCount(heads.seq_relationship_logits, nspLabels),
    },
  };
}

/** A pre-training batch (from data/) as the inputs preTrainingObjective's graph reads. */
export function preTrainingFeeds(b: PretrainingBatch): Record<string, HostTensor> {
  const bs = [b.batch_size, b.seq_length];
  const bp = [b.batch_size, b.max_predictions];
  return {
    input_ids: { dtype: 'int64', shape: bs, data: b.input_ids },
    token_type_ids: { dtype: 'int64', shape: bs, data: b.token_type_ids },
    attention_mask: { dtype: 'int64', shape: bs, data: b.attention_mask },
    masked_lm_positions: { dtype: 'int64', shape: bp, data: b.masked_lm_positions },
    masked_lm_ids: { dtype: 'int64', shape: bp, data: b.masked_lm_ids },
    next_sentence_label: { dtype: 'int64', shape: [b.batch_size], data: b.next_sentence_label },
  };
}
