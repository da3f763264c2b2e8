// Fine-tuning graphs: the model, one added output layer per task family (the paper's section 4), and
// its loss. `finetuneForward` is the model and head alone (eval and predict feed no labels);
// `finetuneObjective` adds the labels and the loss for training.
import type { Value } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { bertParameterShapes, type BertHead } from '../checkpoint/keys.ts';
import {
  bertInputs, bertModel, multipleChoiceHead, newContext, questionAnsweringHead, sequenceClassificationHead, tokenClassificationHead, type ModelContext,
} from '../model/bert.ts';
import type { BertConfig } from '../model/config.ts';
import { IGNORE_INDEX } from './objectives.ts';
import type { TrainGraph } from './step.ts';

/** How a task's output layer reads the encoder, and what its loss compares. */
export type TaskFamily = 'classification' | 'regression' | 'token-classification' | 'question-answering' | 'multiple-choice';

export const HEAD_OF_FAMILY: Record<TaskFamily, BertHead> = {
  classification: 'sequence_classification',
  regression: 'sequence_classification',
  'token-classification': 'token_classification',
  'question-answering': 'question_answering',
  'multiple-choice': 'multiple_choice',
};

export const ARCHITECTURE_OF_FAMILY: Record<TaskFamily, string> = {
  classification: 'BertForSequenceClassification',
  regression: 'BertForSequenceClassification',
  'token-classification': 'BertForTokenClassification',
  'question-answering': 'BertForQuestionAnswering',
  'multiple-choice': 'BertForMultipleChoice',
};

/** The parameters of `head`'s Hugging Face class on `config`, and that class's name (for loadWeights). */
export function headParameters(config: BertConfig, head: FinetuneHead): { shapes: Map<string, number[]>; modelName: string } {
  return { shapes: bertParameterShapes(config, HEAD_OF_FAMILY[head.family], head.numLabels), modelName: ARCHITECTURE_OF_FAMILY[head.family] };
}

export interface FinetuneHead {
  family: TaskFamily;
  /** Classes (classification, token classification); 1 for regression; choices per example (multiple choice). */
  numLabels: number;
}

/**
 * The forward outputs by name: `logits` (B, C), (B) for regression, (N, C) for token
 * classification, (B, K) for multiple choice; `start_logits`/`end_logits` (B, S) for QA.
 * Multiple choice takes its inputs flattened to (B*K, S).
 */
export function finetuneForward(config: BertConfig, head: FinetuneHead, opts: { training: boolean; ctx?: ModelContext }): { ctx: ModelContext; outputs: Record<string, Value> } {
  const ctx = opts.ctx ?? newContext(config, { training: opts.training });
  const inputs = bertInputs(ctx);
  const out = bertModel(ctx, inputs);
  if (HEAD_OF_FAMILY[head.family] === 'token_classification' || HEAD_OF_FAMILY[head.family] === 'question_answering') {
    // Hugging Face's token-classification and QA classes have no pooler: bertModel builds one, no
    // output here reads it, so its parameters leave the context (and the graph prunes its nodes).
    for (const name of ['bert.pooler.dense.weight', 'bert.pooler.dense.bias']) ctx.params.delete(name);
  }
  switch (head.family) {
    case 'classification':
      return { ctx, outputs: { logits: sequenceClassificationHead(ctx, out, head.numLabels) } };
    case 'regression':
      return { ctx, outputs: { logits: op.reshape(sequenceClassificationHead(ctx, out, 1), [-1]) } }; // (B)
    case 'token-classification':
      return { ctx, outputs: { logits: tokenClassificationHead(ctx, out, head.numLabels) } };
    case 'question-answering': {
      const { start_logits, end_logits } = questionAnsweringHead(ctx, out, inputs.input_ids);
      return { ctx, outputs: { start_logits, end_logits } };
    }
    case 'multiple-choice':
      return { ctx, outputs: { logits: multipleChoiceHead(ctx, out, head.numLabels) } };
  }
}

/** Mean of squared differences, torch's MSELoss(reduction='mean'): a scalar. */
export function mse(prediction: Value, target: Value): Value {
  const d = op.sub(prediction, target);
  return op.reduceMean(op.mul(d, d), prediction.shape.map((_, i) => i), false);
}

/**
 * The training graph. Label inputs: `labels` (B) int64 for classification and multiple choice,
 * (B) float32 for regression, (B, S) int64 with IGNORE_INDEX off first pieces for token
 * classification; `start_positions`/`end_positions` (B) int64 for QA (loss = mean of the two CEs,
 * each over the sequence as classes, as BertForQuestionAnswering).
 */
export function finetuneObjective(config: BertConfig, head: FinetuneHead, opts: { training: boolean }): TrainGraph {
  const { ctx, outputs } = finetuneForward(config, head, opts);
  const g = ctx.graph;
  switch (head.family) {
    case 'regression': {
      const labels = g.input('labels', ctx.dtype, outputs.logits!.shape);
      return { ctx, loss: mse(outputs.logits!, labels), outputs };
    }
    case 'token-classification': {
      const labels = op.reshape(g.input('labels', 'int64', ['batch', 'seq']), [-1]); // (N)
      return { ctx, loss: op.softmaxCrossEntropy(outputs.logits!, labels, IGNORE_INDEX)[0], outputs };
    }
    case 'question-answering': {
      const start = g.input('start_positions', 'int64', ['batch']);
      const end = g.input('end_positions', 'int64', ['batch']);
      const [startLoss] = op.softmaxCrossEntropy(outputs.start_logits!, start, IGNORE_INDEX);
      const [endLoss] = op.softmaxCrossEntropy(outputs.end_logits!, end, IGNORE_INDEX);
      return { ctx, loss: op.mul(op.add(startLoss, endLoss), 0.5), outputs };
    }
    case 'classification':
    case 'multiple-choice': {
      // Multiple choice: the logits' rows are examples, not the (B*K) input rows.
      const labels = g.input('labels', 'int64', [outputs.logits!.shape[0]!]);
      return { ctx, loss: op.softmaxCrossEntropy(outputs.logits!, labels, IGNORE_INDEX)[0], outputs };
    }
  }
}
