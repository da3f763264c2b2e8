// Inference graphs: the model of model/bert.ts (or its fused twin, fused.ts) with the weights frozen in
// as ONNX initializers and only the outputs one use needs. One builder serves bert-ts's own pipelines
// and `bert export`, so what we run is what we ship.
import type { FloatTensor } from '../checkpoint/tensor.ts';
import { BertError } from '../errors.ts';
import type { Value } from '../graph/graph.ts';
import { lowerGraph, type LowerOptions } from '../graph/lower.ts';
import * as op from '../graph/ops.ts';
import {
  bertInputs,
  bertModel,
  newContext,
  preTrainingHeads,
  questionAnsweringHead,
  sequenceClassificationHead,
  tokenClassificationHead,
  type BertInputs,
  type BertOutputs,
  type ModelContext,
} from '../model/bert.ts';
import type { BertConfig } from '../model/config.ts';
import { checkParam } from '../model/runner.ts';
import { CompiledGraph } from '../runtime/session.ts';
import { fusedBertModel } from './fused.ts';
import { quantizeDynamicInt8 } from './quantize.ts';

/** What a graph computes. Hidden states are (N, H), logits per token (N, C), as in bert.ts. */
export type GraphPurpose =
  /** `hidden.<i>` for each layer index i (0 = embeddings, L = last), and `pooler_output` when asked. */
  | { kind: 'states'; layers: number[]; pooler: boolean }
  /** `prediction_logits` (B*P, V) at the int64 input `masked_lm_positions` (B, P). */
  | { kind: 'fill-mask' }
  /** `logits` (B, C). */
  | { kind: 'sequence-classification'; numLabels: number }
  /** `logits` (N, C). */
  | { kind: 'token-classification'; numLabels: number }
  /** `start_logits`, `end_logits`, each (B, S). */
  | { kind: 'question-answering' }
  /** transformers.js's contract: (B, S, ...) outputs under HF's names for `task`. */
  | { kind: 'export'; task: ExportTask; numLabels: number };

export type ExportTask = 'feature-extraction' | 'fill-mask' | 'text-classification' | 'token-classification' | 'question-answering';

export interface GraphOptions {
  /** Use the com.microsoft fused kernels (fused.ts); default true. */
  fused?: boolean;
  quantize?: 'int8';
}

function encoder(ctx: ModelContext, inputs: BertInputs, fused: boolean): BertOutputs {
  return fused ? fusedBertModel(ctx, inputs) : bertModel(ctx, inputs);
}

/** (N, X) -> (B, S, X) at the runtime shape of the inputs. */
function perToken(ctx: ModelContext, x: Value, inputs: BertInputs): Value {
  const width = x.shape[1] as number;
  const [B, S] = inputs.input_ids.shape;
  return op.reshapeTo(x, op.concat([op.shapeOf(inputs.input_ids), ctx.graph.ints([width])], 0), [B!, S!, width]);
}

function outputsFor(ctx: ModelContext, inputs: BertInputs, out: BertOutputs, purpose: GraphPurpose): Record<string, Value> {
  switch (purpose.kind) {
    case 'states': {
      const r: Record<string, Value> = {};
      for (const i of purpose.layers) r[`hidden.${i}`] = out.hidden_states[i]!;
      if (purpose.pooler) r.pooler_output = out.pooler_output;
      return r;
    }
    case 'fill-mask': {
      const positions = ctx.graph.input('masked_lm_positions', 'int64', ['batch', 'masked']);
      return { prediction_logits: preTrainingHeads(ctx, out, positions, inputs.input_ids).prediction_logits };
    }
    case 'sequence-classification':
      return { logits: sequenceClassificationHead(ctx, out, purpose.numLabels) };
    case 'token-classification':
      return { logits: tokenClassificationHead(ctx, out, purpose.numLabels) };
    case 'question-answering':
      return questionAnsweringHead(ctx, out, inputs.input_ids);
    case 'export':
      switch (purpose.task) {
        case 'feature-extraction':
          return { last_hidden_state: perToken(ctx, out.last_hidden_state, inputs) };
        case 'fill-mask': {
          // Logits at every position: (B, S) positions 0..S-1 through the pre-training MLM head.
          const ids = inputs.input_ids;
          const all = op.expandLike(op.unsqueeze(op.range(op.sizeOf(ids, 1), ids.shape[1]!), [0]), ids);
          return { logits: perToken(ctx, preTrainingHeads(ctx, out, all, ids).prediction_logits, inputs) };
        }
        case 'text-classification':
          return { logits: sequenceClassificationHead(ctx, out, purpose.numLabels) };
        case 'token-classification':
          return { logits: perToken(ctx, tokenClassificationHead(ctx, out, purpose.numLabels), inputs) };
        case 'question-answering':
          return questionAnsweringHead(ctx, out, inputs.input_ids);
      }
  }
}

/**
 * The graph for `purpose` with `weights` (HF names) frozen in. A parameter the outputs need but
 * `weights` lacks is an error naming it (pooling 'pooler' on a model without a pooler, say).
 */
export function buildInferenceGraph(config: BertConfig, weights: ReadonlyMap<string, FloatTensor>, purpose: GraphPurpose, opts: GraphOptions = {}): Record<string, Value> {
  const ctx = newContext(config, { training: false });
  const inputs = bertInputs(ctx);
  const outputs = outputsFor(ctx, inputs, encoder(ctx, inputs, opts.fused ?? true), purpose);
  for (const [name, v] of ctx.params) {
    const t = weights.get(name);
    if (t !== undefined) ctx.graph.freeze(v, checkParam(v, t).data);
  }
  const unfed = ctx.graph.params().filter((v) => usedBy(outputs).has(v));
  if (unfed.length > 0) throw new BertError(`the model has no ${unfed.map((v) => v.name).join(', ')} (needed for ${purpose.kind})`);
  return outputs;
}

function usedBy(outputs: Record<string, Value>): Set<Value> {
  const used = new Set<Value>();
  const stack = Object.values(outputs);
  while (stack.length) {
    const v = stack.pop()!;
    if (used.has(v)) continue;
    used.add(v);
    if (v.producer) stack.push(...v.producer.inputs);
  }
  return used;
}

export function lowerOptions(opts: GraphOptions): LowerOptions {
  return { passes: opts.quantize === 'int8' ? [quantizeDynamicInt8] : [] };
}

/** ONNX bytes of an inference graph (for export). */
export function inferenceModelBytes(config: BertConfig, weights: ReadonlyMap<string, FloatTensor>, purpose: GraphPurpose, opts: GraphOptions = {}): Uint8Array {
  return lowerGraph(buildInferenceGraph(config, weights, purpose, opts), lowerOptions(opts)).bytes;
}

/** An inference graph compiled by ONNX Runtime. */
export async function compileInference(
  config: BertConfig,
  weights: ReadonlyMap<string, FloatTensor>,
  purpose: GraphPurpose,
  opts: GraphOptions & { threads?: number } = {},
): Promise<CompiledGraph> {
  const outputs = buildInferenceGraph(config, weights, purpose, opts);
  return CompiledGraph.compile(outputs, { threads: opts.threads, lower: lowerOptions(opts) });
}
