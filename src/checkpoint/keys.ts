import { BertError } from '../errors.ts';
import type { BertConfig } from '../model/config.ts';
import type { FloatTensor, StoredTensor } from './tensor.ts';

/** The tokenizer files of a model folder, copied along with the weights. */
export const TOKENIZER_FILES = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

// Parameter names are Hugging Face's, with the `bert.` prefix on the encoder: they are the checkpoint
// contract. Checkpoints in the wild differ in three harmless ways that `normalizeState` removes:
// a bare BertModel saves its weights without `bert.`; TF-converted ones say LayerNorm.gamma/beta;
// and torch state dicts also hold buffers (position_ids) and the tied MLM decoder under its own names.

/** The heads of Hugging Face's BERT classes, by the parameters they add. */
export type BertHead = 'none' | 'pretraining' | 'masked_lm' | 'sequence_classification' | 'token_classification' | 'question_answering' | 'multiple_choice';

const ENCODER_ROOTS = ['embeddings.', 'encoder.', 'pooler.'];
// Buffers, not parameters: HF ignores them on load.
const BUFFERS = new Set(['bert.embeddings.position_ids', 'bert.embeddings.token_type_ids']);
// Tied to bert.embeddings.word_embeddings.weight and cls.predictions.bias; HF leaves them out of
// model.safetensors, torch.save writes them, and either way they carry no information of their own.
export const TIED_DECODER_WEIGHT = 'cls.predictions.decoder.weight';
export const TIED_DECODER_BIAS = 'cls.predictions.decoder.bias';

/** The canonical name of a checkpoint key: `bert.` prefix on encoder weights, LayerNorm weight/bias. */
export function normalizeKey(name: string): string {
  let key = name;
  if (ENCODER_ROOTS.some((root) => key.startsWith(root))) key = `bert.${key}`;
  return key.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

export interface NormalizedState {
  tensors: Map<string, FloatTensor>;
  /** Keys dropped as buffers, tied copies or non-float tensors. */
  ignored: string[];
}

/** Canonical names, fp32 tensors only; buffers and tied copies dropped. Two keys meaning the same weight is an error. */
export function normalizeState(loaded: ReadonlyMap<string, StoredTensor>, where?: string): NormalizedState {
  const tensors = new Map<string, FloatTensor>();
  const ignored: string[] = [];
  let decoderBias: FloatTensor | undefined;
  for (const [name, t] of loaded) {
    const key = normalizeKey(name);
    if (BUFFERS.has(key) || key === TIED_DECODER_WEIGHT || t.dtype !== 'float') {
      ignored.push(name);
      continue;
    }
    if (key === TIED_DECODER_BIAS) {
      decoderBias = { shape: t.shape, data: t.data };
      ignored.push(name);
      continue;
    }
    if (tensors.has(key)) throw new BertError(`checkpoint holds ${key} twice (as "${name}" and under another spelling)`, where);
    tensors.set(key, { shape: t.shape, data: t.data });
  }
  // Old checkpoints may hold only the decoder's copy of the MLM bias.
  if (decoderBias !== undefined && !tensors.has('cls.predictions.bias')) tensors.set('cls.predictions.bias', decoderBias);
  return { tensors, ignored };
}

/**
 * The parameter shapes of a Hugging Face BERT class: BertModel (`none`) or BertFor<head>. Like HF,
 * the MLM, token classification and QA classes have no pooler. `numLabels` sizes classifiers.
 */
export function bertParameterShapes(config: BertConfig, head: BertHead = 'none', numLabels = 2): Map<string, number[]> {
  const { vocab_size: V, hidden_size: H, intermediate_size: I } = config;
  const shapes = new Map<string, number[]>();
  const linear = (name: string, out: number, inp: number): void => {
    shapes.set(`${name}.weight`, [out, inp]);
    shapes.set(`${name}.bias`, [out]);
  };
  const layerNorm = (name: string): void => {
    shapes.set(`${name}.weight`, [H]);
    shapes.set(`${name}.bias`, [H]);
  };
  shapes.set('bert.embeddings.word_embeddings.weight', [V, H]);
  shapes.set('bert.embeddings.position_embeddings.weight', [config.max_position_embeddings, H]);
  shapes.set('bert.embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]);
  layerNorm('bert.embeddings.LayerNorm');
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    linear(`${p}.attention.self.query`, H, H);
    linear(`${p}.attention.self.key`, H, H);
    linear(`${p}.attention.self.value`, H, H);
    linear(`${p}.attention.output.dense`, H, H);
    layerNorm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, I, H);
    linear(`${p}.output.dense`, H, I);
    layerNorm(`${p}.output.LayerNorm`);
  }
  const pooled = head === 'none' || head === 'pretraining' || head === 'sequence_classification' || head === 'multiple_choice';
  if (pooled) linear('bert.pooler.dense', H, H);
  if (head === 'pretraining' || head === 'masked_lm') {
    shapes.set('cls.predictions.bias', [V]);
    linear('cls.predictions.transform.dense', H, H);
    layerNorm('cls.predictions.transform.LayerNorm');
  }
  if (head === 'pretraining') linear('cls.seq_relationship', 2, H);
  if (head === 'sequence_classification' || head === 'token_classification') linear('classifier', numLabels, H);
  if (head === 'multiple_choice') linear('classifier', 1, H);
  if (head === 'question_answering') linear('qa_outputs', 2, H);
  return shapes;
}

export function countParameters(shapes: ReadonlyMap<string, readonly number[]>): number {
  let total = 0;
  for (const shape of shapes.values()) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

export interface StateMatch {
  /** Expected but not in the checkpoint: the caller initialises these (a fresh head, typically). */
  missing: string[];
  /** In the checkpoint but not expected: ignored (a pre-training head under a classifier, typically). */
  unexpected: string[];
}

/**
 * Compares a model's expected parameters with a loaded state, as `from_pretrained` does. A key present
 * on both sides with different shapes is an error naming every such key with both shapes.
 */
export function matchState(expected: ReadonlyMap<string, readonly number[]>, loaded: ReadonlyMap<string, FloatTensor>, where?: string): StateMatch {
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [name, shape] of expected) {
    const t = loaded.get(name);
    if (t === undefined) missing.push(name);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      mismatched.push(`${name}: checkpoint has [${t.shape.join(', ')}], model expects [${shape.join(', ')}]`);
    }
  }
  if (mismatched.length > 0) {
    // One line however many: a config that disagrees with every tensor would otherwise print hundreds.
    const shown = mismatched.slice(0, 5).join('; ') + (mismatched.length > 5 ? `; and ${mismatched.length - 5} more` : '');
    throw new BertError(`checkpoint does not fit the model (shape mismatch in ${mismatched.length} tensors): ${shown}`, where);
  }
  const unexpected = [...loaded.keys()].filter((name) => !expected.has(name));
  return { missing, unexpected };
}

/** The messages Hugging Face prints for a partial load; empty when everything matched. */
export function describeMatch(match: StateMatch, modelName: string, source: string): string[] {
  const lines: string[] = [];
  if (match.unexpected.length > 0) {
    lines.push(`Some weights of the checkpoint at ${source} were not used when initializing ${modelName}: ${match.unexpected.join(', ')}`);
  }
  if (match.missing.length > 0) {
    lines.push(
      `Some weights of ${modelName} were not initialized from the checkpoint at ${source} and are newly initialized: ${match.missing.join(', ')}. ` +
        'You should probably train this model on a downstream task before using it for predictions.',
    );
  }
  return lines;
}
