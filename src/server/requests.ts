// Request bodies, checked by hand into typed values: shapes follow Text Embeddings Inference
// (router/src/http/types.rs) and OpenAI's embeddings API; unknown fields are ignored as serde does.
import { ApiError, badShape } from './errors.ts';

/** One input of /predict: a text or a text pair. */
export type Sequence = string | [string, string];

export interface EmbedRequest {
  inputs: string[];
  single: boolean;
  normalize: boolean;
  truncate: boolean;
}

export interface PredictRequest {
  inputs: Sequence[];
  single: boolean;
  truncate: boolean;
  raw_scores: boolean;
}

export interface TokenizeRequest {
  inputs: string[];
  add_special_tokens: boolean;
}

export interface OpenAIEmbeddingsRequest {
  input: string[];
  model: string | undefined;
  encoding_format: 'float' | 'base64';
}

export interface FillMaskRequest {
  inputs: string[];
  single: boolean;
  top_k: number;
  truncate: boolean;
}

export interface TokenClassificationRequest {
  inputs: string[];
  single: boolean;
  truncate: boolean;
}

export interface QuestionAnsweringRequest {
  inputs: Array<{ question: string; context: string }>;
  single: boolean;
  top_k: number;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badShape(`request body must be a JSON object, got ${kind(body)}`);
  return body as Record<string, unknown>;
}

function bool(o: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = o[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw badShape(`\`${field}\` must be a boolean, got ${kind(v)}`);
  return v;
}

function positiveInt(o: Record<string, unknown>, field: string, fallback: number, max: number): number {
  const v = o[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw badShape(`\`${field}\` must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function checkCount(n: number, field: string, maxClientBatchSize: number): void {
  if (n === 0) throw new ApiError(`\`${field}\` cannot be empty`, 'empty');
  if (n > maxClientBatchSize) throw new ApiError(`batch size ${n} > maximum allowed batch size ${maxClientBatchSize}`, 'validation');
}

/** `string | string[]`, TEI's `Input`. */
function texts(o: Record<string, unknown>, field: string, maxClientBatchSize: number): { texts: string[]; single: boolean } {
  const v = o[field];
  if (v === undefined) throw badShape(`missing field \`${field}\``);
  if (typeof v === 'string') return { texts: [v], single: true };
  if (!Array.isArray(v)) throw badShape(`\`${field}\` must be a string or a list of strings, got ${kind(v)}`);
  checkCount(v.length, field, maxClientBatchSize);
  v.forEach((t, i) => {
    if (typeof t !== 'string') throw badShape(`\`${field}[${i}]\` must be a string, got ${kind(t)}`);
  });
  return { texts: v as string[], single: false };
}

export function parseEmbed(body: unknown, maxClientBatchSize: number): EmbedRequest {
  const o = object(body);
  const { texts: inputs, single } = texts(o, 'inputs', maxClientBatchSize);
  return { inputs, single, normalize: bool(o, 'normalize', true), truncate: bool(o, 'truncate', false) };
}

/** A list of 1 or 2 strings: one sequence or a pair (TEI's batch element). */
function sequence(v: unknown, where: string): Sequence {
  if (!Array.isArray(v) || v.length < 1 || v.length > 2 || v.some((s) => typeof s !== 'string')) {
    throw badShape(`\`${where}\` must be [string] or [string, string], got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v.length === 1 ? (v[0] as string) : [v[0] as string, v[1] as string];
}

/**
 * TEI's PredictInput: "text", ["text"], ["text a", "text b"] (one pair), or a batch whose elements
 * are [text] or [text a, text b]. A flat list of strings is one sequence, not a batch, as in TEI.
 */
export function parsePredict(body: unknown, maxClientBatchSize: number): PredictRequest {
  const o = object(body);
  const v = o.inputs;
  const rest = { truncate: bool(o, 'truncate', false), raw_scores: bool(o, 'raw_scores', false) };
  if (v === undefined) throw badShape('missing field `inputs`');
  if (typeof v === 'string') return { inputs: [v], single: true, ...rest };
  if (!Array.isArray(v)) throw badShape(`\`inputs\` must be a string, a pair [string, string] or a batch [[string], [string, string], ...], got ${kind(v)}`);
  if (v.length === 0) throw new ApiError('`inputs` cannot be empty', 'empty');
  if (typeof v[0] === 'string') return { inputs: [sequence(v, 'inputs')], single: true, ...rest };
  checkCount(v.length, 'inputs', maxClientBatchSize);
  return { inputs: v.map((s, i) => sequence(s, `inputs[${i}]`)), single: false, ...rest };
}

export function parseTokenize(body: unknown, maxClientBatchSize: number): TokenizeRequest {
  const o = object(body);
  return { inputs: texts(o, 'inputs', maxClientBatchSize).texts, add_special_tokens: bool(o, 'add_special_tokens', true) };
}

export function parseOpenAIEmbeddings(body: unknown, maxClientBatchSize: number): OpenAIEmbeddingsRequest {
  const o = object(body);
  const v = o.input;
  if (Array.isArray(v) && v.length > 0 && typeof v[0] !== 'string') {
    throw badShape('`input` must be a string or a list of strings; token-id arrays are not supported');
  }
  const input = texts(o, 'input', maxClientBatchSize).texts;
  const model = o.model;
  if (model !== undefined && model !== null && typeof model !== 'string') throw badShape(`\`model\` must be a string, got ${kind(model)}`);
  const format = o.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw badShape(`\`encoding_format\` must be "float" or "base64", got ${JSON.stringify(format)}`);
  return { input, model: (model as string | null | undefined) ?? undefined, encoding_format: format };
}

/** `top_k` at the top level, or inside `parameters` as the Hugging Face Inference API sends it. */
function topK(o: Record<string, unknown>, fallback: number): number {
  const params = o.parameters;
  if (params !== undefined && params !== null) {
    const p = object(params);
    if (p.top_k !== undefined) return positiveInt(p, 'top_k', fallback, 100);
  }
  return positiveInt(o, 'top_k', fallback, 100);
}

export function parseFillMask(body: unknown, maxClientBatchSize: number): FillMaskRequest {
  const o = object(body);
  const { texts: inputs, single } = texts(o, 'inputs', maxClientBatchSize);
  return { inputs, single, top_k: topK(o, 5), truncate: bool(o, 'truncate', false) };
}

export function parseTokenClassification(body: unknown, maxClientBatchSize: number): TokenClassificationRequest {
  const o = object(body);
  const { texts: inputs, single } = texts(o, 'inputs', maxClientBatchSize);
  return { inputs, single, truncate: bool(o, 'truncate', false) };
}

function qaPair(v: unknown, where: string): { question: string; context: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badShape(`\`${where}\` must be an object {question, context}, got ${kind(v)}`);
  const { question, context } = v as Record<string, unknown>;
  if (typeof question !== 'string') throw badShape(`\`${where}.question\` must be a string, got ${kind(question)}`);
  if (typeof context !== 'string') throw badShape(`\`${where}.context\` must be a string, got ${kind(context)}`);
  if (question.trim() === '') throw new ApiError(`\`${where}.question\` cannot be empty`, 'empty');
  if (context.trim() === '') throw new ApiError(`\`${where}.context\` cannot be empty`, 'empty');
  return { question, context };
}

/** `{question, context}` or a list of them (the Hugging Face question-answering pipeline's inputs). */
export function parseQuestionAnswering(body: unknown, maxClientBatchSize: number): QuestionAnsweringRequest {
  const o = object(body);
  const v = o.inputs;
  const k = topK(o, 1);
  if (v === undefined) throw badShape('missing field `inputs`');
  if (!Array.isArray(v)) return { inputs: [qaPair(v, 'inputs')], single: true, top_k: k };
  checkCount(v.length, 'inputs', maxClientBatchSize);
  return { inputs: v.map((p, i) => qaPair(p, `inputs[${i}]`)), single: false, top_k: k };
}
