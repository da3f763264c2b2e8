// The BERT encoder for inference, written with ONNX Runtime's com.microsoft operators where one kernel
// does exactly what several of ours do: EmbedLayerNormalization (three lookups + sum + LayerNorm),
// MultiHeadAttention (scores, padding mask, softmax, context), SkipLayerNormalization (residual +
// LayerNorm) and Gelu (erf). Same parameters (HF names) and same outputs as bertModel in model/bert.ts,
// which stays the reference: test/inference-fused.test.ts holds the two within 1e-4.
//
// Letters as in bert.ts: B batch, S sequence, N = B*S, H hidden, A heads, I intermediate.
import { bertPooler, linear, param, type BertInputs, type BertOutputs, type ModelContext } from '../model/bert.ts';
import type { Value } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { float, int } from '../graph/onnx.ts';
import { BertError } from '../errors.ts';

const MS = 'com.microsoft';

/** The BertModel of bert.ts, with fused kernels; inference only (no dropout sites). */
export function fusedBertModel(ctx: ModelContext, inputs: BertInputs): BertOutputs {
  const { hidden_size: H, num_hidden_layers: L, num_attention_heads: A, hidden_act } = ctx.config;
  if (ctx.training) throw new BertError('the fused graph is for inference; build the training graph with bertModel');
  if (hidden_act !== 'gelu') throw new BertError(`the fused graph needs hidden_act "gelu" (erf), the model has "${hidden_act}"; use the unfused graph`);
  const g = ctx.graph;
  const [B, S] = inputs.input_ids.shape;
  const bsh = op.concat([op.shapeOf(inputs.input_ids), g.ints([H])], 0); // (B, S, H) as a runtime shape
  // The contrib kernels take int32 ids and masks.
  const mask32 = op.cast(inputs.attention_mask, 'int32'); // (B, S)
  const hidden_states = [embedLayerNorm(ctx, inputs)];
  for (let i = 0; i < L; i++) {
    hidden_states.push(g.scope(`layer${i}`, () => fusedLayer(ctx, hidden_states[i]!, mask32, bsh, [B!, S!], A, i)));
  }
  const last = hidden_states[L]!;
  return { last_hidden_state: last, pooler_output: bertPooler(ctx, last, inputs.input_ids), hidden_states };
}

function embedLayerNorm(ctx: ModelContext, inputs: BertInputs): Value {
  const { vocab_size: V, hidden_size: H, max_position_embeddings: P, type_vocab_size: T, layer_norm_eps } = ctx.config;
  const p = 'bert.embeddings';
  const [B, S] = inputs.input_ids.shape;
  const [out] = ctx.graph.addNode(
    'EmbedLayerNormalization',
    [
      op.cast(inputs.input_ids, 'int32'),
      op.cast(inputs.token_type_ids, 'int32'),
      param(ctx, `${p}.word_embeddings.weight`, [V, H]),
      param(ctx, `${p}.position_embeddings.weight`, [P, H]),
      param(ctx, `${p}.token_type_embeddings.weight`, [T, H]),
      param(ctx, `${p}.LayerNorm.weight`, [H]),
      param(ctx, `${p}.LayerNorm.bias`, [H]),
    ],
    [
      { dtype: ctx.dtype, shape: [B!, S!, H] },
      { dtype: 'int32', shape: [B!] },
    ],
    { epsilon: float(layer_norm_eps) },
    MS,
  );
  return op.reshape(out!, [-1, H]); // (N, H)
}

/** residual + LayerNorm in one kernel: LN(x + skip). */
function skipLayerNorm(ctx: ModelContext, x: Value, skip: Value, name: string): Value {
  const H = ctx.config.hidden_size;
  const gamma = param(ctx, `${name}.weight`, [H]);
  const beta = param(ctx, `${name}.bias`, [H]);
  return ctx.graph.addNode('SkipLayerNormalization', [x, skip, gamma, beta], [{ dtype: x.dtype, shape: x.shape }], { epsilon: float(ctx.config.layer_norm_eps) }, MS)[0]!;
}

function fusedLayer(ctx: ModelContext, x: Value, mask32: Value, bsh: Value, [B, S]: [string | number, string | number], A: number, i: number): Value {
  const { hidden_size: H, intermediate_size: I } = ctx.config;
  const prefix = `bert.encoder.layer.${i}`;
  const a = `${prefix}.attention`;
  const toBSH = (t: Value) => op.reshapeTo(t, bsh, [B, S, H]);
  // Projections without their biases: MultiHeadAttention adds the three (concatenated q, k, v) itself.
  const project = (name: string) => toBSH(op.gemm(x, param(ctx, `${a}.self.${name}.weight`, [H, H]), undefined, { transB: true })); // (B, S, H)
  const bias = op.concat(['query', 'key', 'value'].map((n) => param(ctx, `${a}.self.${n}.bias`, [H])), 0); // (3H)
  const [context] = ctx.graph.addNode(
    'MultiHeadAttention',
    [project('query'), project('key'), project('value'), bias, mask32],
    [{ dtype: x.dtype, shape: [B, S, H] }],
    { num_heads: int(A) },
    MS,
  );
  const attn = linear(ctx, op.reshape(context!, [-1, H]), `${a}.output.dense`, H, H); // (N, H)
  const h = skipLayerNorm(ctx, attn, x, `${a}.output.LayerNorm`);
  const inter = op.gelu(linear(ctx, h, `${prefix}.intermediate.dense`, H, I)); // (N, I)
  const out = linear(ctx, inter, `${prefix}.output.dense`, I, H);
  return skipLayerNorm(ctx, out, h, `${prefix}.output.LayerNorm`); // (N, H)
}
