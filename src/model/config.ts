import { BertError } from '../errors.ts';
import { oneLine } from '../io/json-text.ts';
import { checkJsonDepth } from '../limits.ts';

/** Activation of the feed-forward block and the MLM transform. `gelu` is the exact erf form BERT uses. */
export type HiddenAct = 'gelu' | 'gelu_new' | 'relu';
export const HIDDEN_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'relu'];

/**
 * The Hugging Face `config.json` of a BERT model, same keys, same meaning. Letters used elsewhere:
 * V = vocab_size, H = hidden_size, L = num_hidden_layers, A = num_attention_heads, I = intermediate_size.
 */
export interface BertConfig {
  model_type: 'bert';
  vocab_size: number; // V: rows of the word embedding and columns of the MLM decoder
  hidden_size: number; // H: width of every token's vector
  num_hidden_layers: number; // L: encoder layers
  num_attention_heads: number; // A: heads per layer; H must divide by A
  intermediate_size: number; // I: width of the feed-forward block, 4H in the paper
  hidden_act: HiddenAct;
  hidden_dropout_prob: number; // dropout on embeddings and after each sub-layer
  attention_probs_dropout_prob: number; // dropout on the attention probabilities
  max_position_embeddings: number; // longest sequence the learned positions cover
  type_vocab_size: number; // segment types (sentence A / B)
  initializer_range: number; // std of the normal used to initialise weights
  layer_norm_eps: number;
  pad_token_id: number;
  architectures?: string[];
  id2label?: Record<number, string>; // number keys in memory, string keys in JSON
  label2id?: Record<string, number>;
  problem_type?: 'regression' | 'single_label_classification' | 'multi_label_classification';
  /** Keys we do not interpret (transformers_version, use_cache, ...), written back unchanged. */
  extra?: Record<string, unknown>;
}

/** Hugging Face's `BertConfig()` defaults: what a missing key in config.json means. */
const HF_DEFAULTS: Omit<BertConfig, 'architectures' | 'id2label' | 'label2id' | 'problem_type' | 'extra'> = {
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
};

/** The BERT sizes of the paper and of Google's "Well-Read Students" release (Turc et al. 2019). */
function preset(L: number, H: number, A: number): BertConfig {
  return { ...HF_DEFAULTS, num_hidden_layers: L, hidden_size: H, num_attention_heads: A, intermediate_size: 4 * H };
}
export const PRESETS = {
  tiny: preset(2, 128, 2),
  mini: preset(4, 256, 4),
  small: preset(4, 512, 8),
  medium: preset(8, 512, 8),
  base: preset(12, 768, 12),
  large: preset(24, 1024, 16),
} as const satisfies Record<string, BertConfig>;
export type PresetName = keyof typeof PRESETS;

/**
 * A config from a preset name (or HF defaults when given a partial config), with `overrides` on top,
 * validated. `makeConfig('base', { num_hidden_layers: 6 })`.
 */
export function makeConfig(nameOrPartial: PresetName | Partial<BertConfig> = 'base', overrides: Partial<BertConfig> = {}): BertConfig {
  let base: BertConfig;
  if (typeof nameOrPartial === 'string') {
    if (!Object.hasOwn(PRESETS, nameOrPartial)) {
      throw new BertError(`unknown preset "${nameOrPartial}"; known presets: ${Object.keys(PRESETS).join(', ')}`);
    }
    base = PRESETS[nameOrPartial];
  } else {
    base = { ...HF_DEFAULTS, ...nameOrPartial };
  }
  const config: BertConfig = { ...base, ...overrides, model_type: 'bert' };
  validateConfig(config);
  return config;
}

/**
 * The largest value each size may take: far above any released BERT (in the comments), low enough
 * that a config.json cannot make us build a graph or allocate weights no machine holds.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 24, // multilingual BERTs: 120k; XLM-R: 250k
  hidden_size: 1 << 14, // bert-large: 1024
  num_hidden_layers: 256, // bert-large: 24
  num_attention_heads: 1 << 14, // bert-large: 16; also bounded by hidden_size
  intermediate_size: 1 << 16, // bert-large: 4096
  max_position_embeddings: 1 << 16, // BERT: 512; long-input variants: 4096
  type_vocab_size: 1 << 10, // BERT: 2; some variants: 16
  num_labels: 1 << 16, // id2label entries
} as const;

/**
 * Most parameters a config may ask for: 2^29 fp32 weights are 2 GiB, the most one protobuf (our
 * ONNX graphs hold the weights) can carry. bert-large has 335M.
 */
export const MAX_PARAMETERS = 2 ** 29;

const PROBLEM_TYPES: readonly string[] = ['regression', 'single_label_classification', 'multi_label_classification'];

const POSITIVE_INTS = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
] as const;

/**
 * Parameters of BertForPreTraining with a classifier of `numLabels` beside it: the most any head
 * adds. Counted with the formula, not by building the shapes, so an absurd config costs nothing.
 */
export function maxParameterCount(config: BertConfig, numLabels = 0): number {
  const { vocab_size: V, hidden_size: H, num_hidden_layers: L, intermediate_size: I } = config;
  const embeddings = (V + config.max_position_embeddings + config.type_vocab_size) * H + 2 * H;
  const layer = 4 * (H * H + H) + 2 * H + (I * H + I) + (H * I + H) + 2 * H;
  const pooler = H * H + H;
  const mlm = V + (H * H + H) + 2 * H;
  const nsp = 2 * H + 2;
  return embeddings + L * layer + pooler + mlm + nsp + numLabels * (H + 1);
}

/** Throws a BertError naming the first bad field; `where` is the config file when there is one. */
export function validateConfig(config: BertConfig, where?: string): void {
  const bad = (field: string, why: string): never => {
    throw new BertError(`invalid BERT config: ${field} ${why}`, where);
  };
  for (const field of POSITIVE_INTS) {
    const v: unknown = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    if ((v as number) > CONFIG_LIMITS[field]) bad(field, `is ${v as number}, over the limit of ${CONFIG_LIMITS[field]}`);
  }
  const numLabels = config.id2label === undefined ? 0 : Object.keys(config.id2label).length;
  if (numLabels > CONFIG_LIMITS.num_labels) bad('id2label', `has ${numLabels} labels, over the limit of ${CONFIG_LIMITS.num_labels}`);
  const parameters = maxParameterCount(config, numLabels);
  if (parameters > MAX_PARAMETERS) {
    bad('sizes', `ask for ${parameters} parameters (${(parameters / 2 ** 28).toFixed(1)} GiB in fp32), over the limit of ${MAX_PARAMETERS} (2 GiB)`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    bad('hidden_size', `(${config.hidden_size}) must be divisible by num_attention_heads (${config.num_attention_heads})`);
  }
  if (!HIDDEN_ACTS.includes(config.hidden_act)) {
    bad('hidden_act', `must be one of ${HIDDEN_ACTS.join(', ')}, got ${JSON.stringify(config.hidden_act)}`);
  }
  for (const field of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const p: unknown = config[field];
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) bad(field, `must be a number in [0, 1), got ${JSON.stringify(p)}`);
  }
  for (const field of ['initializer_range', 'layer_norm_eps'] as const) {
    const v: unknown = config[field];
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(field, `must be a positive number, got ${JSON.stringify(v)}`);
  }
  const pad: unknown = config.pad_token_id;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0 || pad >= config.vocab_size) {
    bad('pad_token_id', `must be an integer in [0, vocab_size), got ${JSON.stringify(pad)}`);
  }
  const arch: unknown = config.architectures;
  if (arch !== undefined && !(Array.isArray(arch) && arch.every((a) => typeof a === 'string'))) bad('architectures', `must be a list of class names, got ${JSON.stringify(arch)}`);
  const problem: unknown = config.problem_type;
  if (problem !== undefined && problem !== null && !PROBLEM_TYPES.includes(problem as string)) {
    bad('problem_type', `must be one of ${PROBLEM_TYPES.join(', ')}, got ${JSON.stringify(problem)}`);
  }
  const label2id: unknown = config.label2id;
  if (label2id !== undefined && (label2id === null || typeof label2id !== 'object' || Array.isArray(label2id) || !Object.values(label2id).every((i) => Number.isInteger(i)))) {
    bad('label2id', 'must map label names to integer indices');
  }
  if (config.id2label !== undefined) {
    for (const [k, v] of Object.entries(config.id2label)) {
      if (!/^\d+$/.test(k) || typeof v !== 'string') bad('id2label', `must map label indices to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    }
  }
}

const KNOWN_KEYS = new Set<string>([...Object.keys(HF_DEFAULTS), 'architectures', 'id2label', 'label2id', 'problem_type']);

/** Parses a config.json object: HF defaults for missing keys, unknown keys kept in `extra`. */
export function configFromJson(json: unknown, where?: string): BertConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new BertError('config.json must hold a JSON object', where);
  const obj = json as Record<string, unknown>;
  if (obj.model_type !== undefined && obj.model_type !== 'bert') {
    throw new BertError(`model_type is ${JSON.stringify(obj.model_type)}, only "bert" is supported`, where);
  }
  const config: BertConfig = { ...HF_DEFAULTS };
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'model_type') continue;
    if (!KNOWN_KEYS.has(key)) extra[key] = value;
    else if (key === 'id2label') config.id2label = parseId2Label(value, where);
    else (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (Object.keys(extra).length > 0) config.extra = extra;
  validateConfig(config, where);
  return config;
}

function parseId2Label(value: unknown, where?: string): Record<number, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BertError('invalid BERT config: id2label must be an object', where);
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!/^\d+$/.test(k) || typeof v !== 'string') throw new BertError(`invalid BERT config: id2label entry ${JSON.stringify(k)}: ${JSON.stringify(v)}`, where);
    out[Number(k)] = v;
  }
  return out;
}

/** Parses and validates the text of a Hugging Face config.json; `where` names it in errors. */
export function parseConfigJson(text: string, where: string): BertConfig {
  // Unknown keys are written back by JSON.stringify, which recurses.
  checkJsonDepth(text, where);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BertError(`config is not valid JSON: ${oneLine((err as Error).message)}`, where);
  }
  return configFromJson(json, where);
}

/** The config.json text Hugging Face would read back to the same config (sorted keys, 2-space indent, like HF). */
export function configToJson(config: BertConfig): string {
  const { extra, id2label, ...known } = config;
  const obj: Record<string, unknown> = { ...extra, ...known };
  if (id2label !== undefined) {
    obj.id2label = Object.fromEntries(Object.entries(id2label).map(([k, v]) => [String(k), v]));
  }
  const sorted = Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
