// BERT (Devlin et al., 2018) as a symbolic graph, read top to bottom: embeddings, a stack of post-LN
// Transformer encoder layers, the pooler, then the heads. Parameters are graph inputs named as in
// Hugging Face's modeling_bert (`bert.encoder.layer.0.attention.self.query.weight`), so checkpoints map
// one to one. Linear weights are (out, in) as in PyTorch.
//
// Letters: B batch, S sequence, N = B*S tokens, H hidden, A heads, D = H/A head size, I intermediate,
// V vocabulary, P masked positions per sequence, C labels.
import type { BertConfig } from './config.ts';
import { Graph, type DType, type Value } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { BertError } from '../errors.ts';

/** Token-level inputs, each (B, S) int64, as Hugging Face names them. */
export interface BertInputs {
  input_ids: Value;
  token_type_ids: Value;
  attention_mask: Value;
}

/** A dropout site: its keep-mask is a graph input, made by the trainer each step (see train/dropout.ts). */
export interface DropoutSite {
  mask: Value;
  p: number;
}

/** What a graph under construction holds: parameters by HF name and the dropout sites. */
export interface ModelContext {
  graph: Graph;
  config: BertConfig;
  /** Dropout on (training) or off (inference). */
  training: boolean;
  dtype: DType;
  params: Map<string, Value>;
  dropouts: DropoutSite[];
}

export function newContext(config: BertConfig, opts: { training: boolean; dtype?: DType }): ModelContext {
  return { graph: new Graph(), config, training: opts.training, dtype: opts.dtype ?? 'float32', params: new Map(), dropouts: [] };
}

/** The graph's input for `input_ids` etc.: (batch, seq) int64. */
export function bertInputs(ctx: ModelContext): BertInputs {
  const g = ctx.graph;
  return {
    input_ids: g.input('input_ids', 'int64', ['batch', 'seq']),
    token_type_ids: g.input('token_type_ids', 'int64', ['batch', 'seq']),
    attention_mask: g.input('attention_mask', 'int64', ['batch', 'seq']),
  };
}

/** A parameter by its HF name; asking twice returns the same value (that is how weights are tied). */
export function param(ctx: ModelContext, name: string, shape: number[]): Value {
  const existing = ctx.params.get(name);
  if (existing) {
    if (existing.shape.join() !== shape.join()) throw new BertError(`parameter ${name} asked with shape [${shape}], has [${existing.shape}]`);
    return existing;
  }
  const v = ctx.graph.param(name, shape, ctx.dtype);
  ctx.params.set(name, v);
  return v;
}

/** PyTorch's nn.Linear: x (N, in) -> (N, out), weight (out, in). */
export function linear(ctx: ModelContext, x: Value, name: string, inFeatures: number, outFeatures: number): Value {
  const w = param(ctx, `${name}.weight`, [outFeatures, inFeatures]);
  const b = param(ctx, `${name}.bias`, [outFeatures]);
  return op.gemm(x, w, b, { transB: true });
}

export function layerNorm(ctx: ModelContext, x: Value, name: string): Value {
  const h = ctx.config.hidden_size;
  return op.layerNorm(x, param(ctx, `${name}.weight`, [h]), param(ctx, `${name}.bias`, [h]), ctx.config.layer_norm_eps)[0];
}

export function dropout(ctx: ModelContext, x: Value, p: number, site: string): Value {
  if (!ctx.training || p === 0) return x;
  const mask = ctx.graph.input(`dropout.${site}`, 'uint8', x.shape);
  ctx.dropouts.push({ mask, p });
  return op.dropout(x, mask, p);
}

function activation(ctx: ModelContext, x: Value): Value {
  switch (ctx.config.hidden_act) {
    case 'gelu':
      return op.gelu(x);
    case 'relu':
      return op.where(op.less(x, 0), 0, x);
    case 'gelu_new': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const inner = op.mul(op.add(x, op.mul(op.mul(op.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
      return op.mul(op.mul(x, 0.5), op.add(op.tanh(inner), 1));
    }
  }
}

/** Word + learned position + segment embeddings, LayerNorm, dropout: (N, H). */
export function bertEmbeddings(ctx: ModelContext, inputs: BertInputs): Value {
  const { vocab_size: V, hidden_size: H, max_position_embeddings: maxPos, type_vocab_size: T } = ctx.config;
  const p = 'bert.embeddings';
  const ids = inputs.input_ids;
  const positions = op.range(op.sizeOf(ids, 1), ids.shape[1]!); // (S)
  const words = op.gather(param(ctx, `${p}.word_embeddings.weight`, [V, H]), ids); // (B, S, H)
  const pos = op.gather(param(ctx, `${p}.position_embeddings.weight`, [maxPos, H]), positions); // (S, H)
  const types = op.gather(param(ctx, `${p}.token_type_embeddings.weight`, [T, H]), inputs.token_type_ids); // (B, S, H)
  const summed = op.reshape(op.add(op.add(words, pos), types), [-1, H]); // (N, H)
  return dropout(ctx, layerNorm(ctx, summed, `${p}.LayerNorm`), ctx.config.hidden_dropout_prob, 'embeddings');
}

/** 0 where attention_mask is 1, the dtype's most negative number where it is 0: (B, 1, 1, S). */
export function additiveMask(ctx: ModelContext, attentionMask: Value): Value {
  const min = ctx.dtype === 'float64' ? -1.7976931348623157e308 : -3.4028234663852886e38; // torch.finfo(dtype).min, as HF
  const keep = op.cast(attentionMask, ctx.dtype);
  return op.unsqueeze(op.mul(op.sub(ctx.graph.scalar(1, ctx.dtype), keep), min), [1, 2]);
}

/** Multi-head scaled dot-product self-attention with its output projection, before the residual. */
export function bertAttention(ctx: ModelContext, x: Value, mask: Value, heads: Value, prefix: string): Value {
  const { hidden_size: H, num_attention_heads: A } = ctx.config;
  const D = H / A;
  const [B, S] = [mask.shape[0]!, mask.shape[3]!];
  const split = (t: Value, perm: number[]) => op.transpose(op.reshapeTo(t, heads, [B, S, A, D]), perm);
  const q = split(linear(ctx, x, `${prefix}.self.query`, H, H), [0, 2, 1, 3]); // (B, A, S, D)
  const k = split(linear(ctx, x, `${prefix}.self.key`, H, H), [0, 2, 1, 3]); // (B, A, S, D)
  const v = split(linear(ctx, x, `${prefix}.self.value`, H, H), [0, 2, 1, 3]); // (B, A, S, D)
  // q k^T read transposed by the GEMM: a (B, A, D, S) copy of k would put S innermost, a slow transpose
  const scores = op.add(op.mul(op.matmul(q, k, { transB: true }), 1 / Math.sqrt(D)), mask); // (B, A, S, S)
  const probs = dropout(ctx, op.softmax(scores, -1), ctx.config.attention_probs_dropout_prob, `${prefix}.probs`);
  const context = op.reshape(op.transpose(op.matmul(probs, v), [0, 2, 1, 3]), [-1, H]); // (N, H)
  return linear(ctx, context, `${prefix}.output.dense`, H, H);
}

/** One post-LN encoder layer: x + attention -> LN -> + FFN -> LN. */
export function bertLayer(ctx: ModelContext, x: Value, mask: Value, heads: Value, i: number): Value {
  const { hidden_size: H, intermediate_size: I, hidden_dropout_prob: p } = ctx.config;
  const prefix = `bert.encoder.layer.${i}`;
  return ctx.graph.scope(`layer${i}`, () => {
    const attn = dropout(ctx, bertAttention(ctx, x, mask, heads, `${prefix}.attention`), p, `${prefix}.attention`);
    const h = layerNorm(ctx, op.add(attn, x), `${prefix}.attention.output.LayerNorm`); // (N, H)
    const inter = activation(ctx, linear(ctx, h, `${prefix}.intermediate.dense`, H, I)); // (N, I)
    const out = dropout(ctx, linear(ctx, inter, `${prefix}.output.dense`, I, H), p, `${prefix}.output`);
    return layerNorm(ctx, op.add(out, h), `${prefix}.output.LayerNorm`); // (N, H)
  });
}

export interface BertOutputs {
  /** (N, H): row b*S + s is token s of sequence b. */
  last_hidden_state: Value;
  /** (B, H): dense + tanh over each sequence's first token ([CLS]). */
  pooler_output: Value;
  /** The hidden state after the embeddings and after every layer, each (N, H). */
  hidden_states: Value[];
}

/** The BertModel: embeddings, L encoder layers, pooler. */
export function bertModel(ctx: ModelContext, inputs: BertInputs): BertOutputs {
  const { hidden_size: H, num_hidden_layers: L, num_attention_heads: A } = ctx.config;
  const g = ctx.graph;
  const mask = additiveMask(ctx, inputs.attention_mask);
  // (B, S, A, D) as a runtime shape vector, built once for every layer's head split
  const heads = op.concat([op.shapeOf(inputs.input_ids), g.ints([A, H / A])], 0);
  const hidden_states = [bertEmbeddings(ctx, inputs)];
  for (let i = 0; i < L; i++) hidden_states.push(bertLayer(ctx, hidden_states[i]!, mask, heads, i));
  const last = hidden_states[L]!;
  return { last_hidden_state: last, pooler_output: bertPooler(ctx, last, inputs.input_ids), hidden_states };
}

/** Dense + tanh on the first token of each sequence. */
export function bertPooler(ctx: ModelContext, sequence: Value, inputIds: Value): Value {
  const H = ctx.config.hidden_size;
  const [B, S] = inputIds.shape as [string, string];
  const first = op.reshape(op.slice(op.reshapeTo(sequence, op.concat([op.shapeOf(inputIds), ctx.graph.ints([H])], 0), [B, S, H]), 1, 0, 1), [-1, H]); // (B, H)
  return op.tanh(linear(ctx, first, 'bert.pooler.dense', H, H));
}

/** Rows of `sequence` (N, H) at `positions` (B, P) within each sequence: (B*P, H). */
export function gatherPositions(sequence: Value, positions: Value, inputIds: Value): Value {
  const batchOffsets = op.mul(op.unsqueeze(op.range(op.sizeOf(inputIds, 0), inputIds.shape[0]!), [1]), op.sizeOf(inputIds, 1)); // (B, 1)
  return op.gather(sequence, op.reshape(op.add(positions, batchOffsets), [-1]));
}

// ---- Heads ---------------------------------------------------------------------------------------

export interface PreTrainingOutputs {
  /** (B*P, V): MLM logits at the masked positions only. */
  prediction_logits: Value;
  /** (B, 2): IsNext (0) / NotNext (1) logits. */
  seq_relationship_logits: Value;
}

/** BertForPreTraining's heads: the MLM transform and tied decoder, and NSP on the pooled output. */
export function preTrainingHeads(ctx: ModelContext, out: BertOutputs, maskedLmPositions: Value, inputIds: Value): PreTrainingOutputs {
  const { hidden_size: H, vocab_size: V } = ctx.config;
  const p = 'cls.predictions';
  const picked = gatherPositions(out.last_hidden_state, maskedLmPositions, inputIds); // (B*P, H)
  const transformed = layerNorm(ctx, activation(ctx, linear(ctx, picked, `${p}.transform.dense`, H, H)), `${p}.transform.LayerNorm`);
  const decoder = param(ctx, 'bert.embeddings.word_embeddings.weight', [V, H]); // tied to the input embeddings
  const prediction_logits = op.gemm(transformed, decoder, param(ctx, `${p}.bias`, [V]), { transB: true }); // (B*P, V)
  const seq_relationship_logits = linear(ctx, out.pooler_output, 'cls.seq_relationship', H, 2); // (B, 2)
  return { prediction_logits, seq_relationship_logits };
}

/** BertForSequenceClassification: dropout + dense on the pooled output -> (B, C); C = 1 for regression. */
export function sequenceClassificationHead(ctx: ModelContext, out: BertOutputs, numLabels: number): Value {
  const pooled = dropout(ctx, out.pooler_output, ctx.config.hidden_dropout_prob, 'classifier');
  return linear(ctx, pooled, 'classifier', ctx.config.hidden_size, numLabels);
}

/** BertForTokenClassification: dropout + dense on every token -> (N, C). */
export function tokenClassificationHead(ctx: ModelContext, out: BertOutputs, numLabels: number): Value {
  const seq = dropout(ctx, out.last_hidden_state, ctx.config.hidden_dropout_prob, 'classifier');
  return linear(ctx, seq, 'classifier', ctx.config.hidden_size, numLabels);
}

/** BertForQuestionAnswering: dense(2) per token, split into start and end logits, each (B, S). */
export function questionAnsweringHead(ctx: ModelContext, out: BertOutputs, inputIds: Value): { start_logits: Value; end_logits: Value } {
  const logits = linear(ctx, out.last_hidden_state, 'qa_outputs', ctx.config.hidden_size, 2); // (N, 2)
  const [start, end] = op.split(logits, 1, [1, 1]);
  const shape = op.shapeOf(inputIds);
  return { start_logits: op.reshapeTo(start!, shape, inputIds.shape), end_logits: op.reshapeTo(end!, shape, inputIds.shape) };
}

/**
 * BertForMultipleChoice: the inputs are (B*K, S), K choices per example flattened; dense(1) on each
 * pooled output, reshaped to (B, K) so a softmax runs over the choices.
 */
export function multipleChoiceHead(ctx: ModelContext, out: BertOutputs, numChoices: number): Value {
  const pooled = dropout(ctx, out.pooler_output, ctx.config.hidden_dropout_prob, 'classifier');
  return op.reshape(linear(ctx, pooled, 'classifier', ctx.config.hidden_size, 1), [-1, numChoices]);
}
