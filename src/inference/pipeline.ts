// loadInferenceModel: a model folder (config, weights, tokenizer) as an InferenceModel. Each use
// (embeddings of some layers, fill-mask, a head) compiles its own graph on first call, weights frozen in;
// requests are tokenized, sorted into length buckets, run batch by batch, and returned in order.
import { availableParallelism } from 'node:os';
import { loadCheckpoint } from '../checkpoint/folder.ts';
import { bertParameterShapes, type BertHead } from '../checkpoint/keys.ts';
import type { FloatTensor } from '../checkpoint/tensor.ts';
import { loadWeights } from '../checkpoint/weights.ts';
import { BertError } from '../errors.ts';
import type { BertConfig } from '../model/config.ts';
import type { CompiledGraph, HostTensor } from '../runtime/session.ts';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import type { Encoding } from '../tokenizer/types.ts';
import { batchFeeds, DEFAULT_LIMITS, lengthBuckets, type BatchLimits } from './batching.ts';
import { compileInference, type GraphOptions, type GraphPurpose } from './graph.ts';
import { bestSpans, groupEntities, l2Normalize, softmax, topK } from './postprocess.ts';
import { mergeWindowAnswers, qaWindows, type QaWindowOptions } from './qa-windows.ts';
import type { Answer, EmbedOptions, InferenceModel, InferenceTask, LabelScore, MaskPrediction, TokenEntity, TokenStates } from './types.ts';

export interface LoadOptions {
  quantize?: 'int8';
  /** com.microsoft fused kernels; default true. */
  fused?: boolean;
  /** ORT intra-op threads; default all cores. */
  threads?: number;
  batch?: BatchLimits;
  /** Where the HF-style load messages go; default stderr. */
  log?: (line: string) => void;
}

const HEAD_OF_ARCHITECTURE: Record<string, BertHead> = {
  BertModel: 'none',
  BertForPreTraining: 'pretraining',
  BertForMaskedLM: 'masked_lm',
  BertForSequenceClassification: 'sequence_classification',
  BertForTokenClassification: 'token_classification',
  BertForQuestionAnswering: 'question_answering',
};

/** The pipeline (and default export task) that each head serves. */
export const TASK_OF_HEAD: Record<BertHead, InferenceTask> = {
  none: 'feature-extraction',
  pretraining: 'fill-mask',
  masked_lm: 'fill-mask',
  sequence_classification: 'text-classification',
  token_classification: 'token-classification',
  question_answering: 'question-answering',
  multiple_choice: 'feature-extraction',
};

export const CLASS_OF_HEAD: Record<BertHead, string> = {
  none: 'BertModel',
  pretraining: 'BertForPreTraining',
  masked_lm: 'BertForMaskedLM',
  sequence_classification: 'BertForSequenceClassification',
  token_classification: 'BertForTokenClassification',
  question_answering: 'BertForQuestionAnswering',
  multiple_choice: 'BertForMultipleChoice',
};

/** The head a checkpoint carries: from `architectures`, else from the keys present. */
export function detectHead(config: BertConfig, tensors: ReadonlyMap<string, FloatTensor>): BertHead {
  const arch = config.architectures?.[0];
  if (arch !== undefined && Object.hasOwn(HEAD_OF_ARCHITECTURE, arch)) return HEAD_OF_ARCHITECTURE[arch]!;
  if (tensors.has('qa_outputs.weight')) return 'question_answering';
  if (tensors.has('classifier.weight')) return 'sequence_classification';
  if (tensors.has('cls.seq_relationship.weight')) return 'pretraining';
  if (tensors.has('cls.predictions.bias')) return 'masked_lm';
  return 'none';
}

export function numLabelsOf(config: BertConfig, tensors: ReadonlyMap<string, FloatTensor>): number {
  if (config.problem_type === 'regression') return 1;
  if (config.id2label !== undefined && Object.keys(config.id2label).length > 0) return Object.keys(config.id2label).length;
  return tensors.get('classifier.weight')?.shape[0] ?? 2;
}

export interface HeadWeights {
  head: BertHead;
  numLabels: number;
  /** The checkpoint's tensors plus fresh ones for what it lacked (loadWeights). */
  weights: Map<string, FloatTensor>;
}

/** A model folder's weights under the head it carries, loaded as from_pretrained does (loadWeights). */
export function resolveWeights(dir: string, log: (line: string) => void): HeadWeights & { config: BertConfig } {
  const ckpt = loadCheckpoint(dir);
  const head = detectHead(ckpt.config, ckpt.tensors);
  const numLabels = numLabelsOf(ckpt.config, ckpt.tensors);
  const shapes = bertParameterShapes(ckpt.config, head, numLabels);
  const { params } = loadWeights(ckpt, { shapes, modelName: CLASS_OF_HEAD[head], config: ckpt.config, seed: 0, say: log });
  // Unexpected tensors stay: a BertForMaskedLM checkpoint that kept its pooler can still pool with it.
  return { config: ckpt.config, head, numLabels, weights: new Map([...ckpt.tensors, ...params]) };
}

export async function loadInferenceModel(dir: string, opts: LoadOptions = {}): Promise<InferenceModel & BertInference> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { config, head, numLabels, weights } = resolveWeights(dir, log);
  const tokenizer = BertTokenizer.fromDirectory(dir);
  return new BertInference(config, head, numLabels, weights, tokenizer, opts);
}

/** Row `row` of a row-major (rows, width) matrix. */
const rowOf = (data: Float32Array, index: number, width: number): Float32Array => data.subarray(index * width, (index + 1) * width);

export class BertInference implements InferenceModel {
  readonly task: InferenceTask;
  readonly maxLength: number;
  private readonly sessions = new Map<string, Promise<CompiledGraph>>();
  private readonly graphOpts: GraphOptions & { threads: number };
  private readonly limits: BatchLimits;

  constructor(
    readonly config: BertConfig,
    readonly head: BertHead,
    readonly numLabels: number,
    private readonly weights: ReadonlyMap<string, FloatTensor>,
    readonly tokenizer: BertTokenizer,
    opts: LoadOptions = {},
  ) {
    this.task = TASK_OF_HEAD[head];
    this.maxLength = Math.min(config.max_position_embeddings, 512);
    this.graphOpts = { fused: opts.fused ?? true, quantize: opts.quantize, threads: opts.threads ?? availableParallelism() };
    this.limits = opts.batch ?? DEFAULT_LIMITS;
  }

  tokenize(text: string): { tokens: string[]; input_ids: number[] } {
    const e = this.tokenizer.encode(text, undefined, { max_length: this.maxLength });
    return { tokens: e.tokens, input_ids: e.input_ids };
  }

  tokenCount(input: string | [string, string], opts: { masks?: boolean } = {}): number {
    if (typeof input !== 'string') return this.tokenizer.encode(input[0], input[1]).input_ids.length;
    if (opts.masks === true) return this.encodeWithMasks(input, Infinity).input_ids.length;
    return this.tokenizer.encode(input).input_ids.length;
  }

  private session(purpose: GraphPurpose): Promise<CompiledGraph> {
    const key = JSON.stringify(purpose);
    let s = this.sessions.get(key);
    if (s === undefined) {
      s = compileInference(this.config, this.weights, purpose, this.graphOpts);
      this.sessions.set(key, s);
    }
    return s;
  }

  private requireHead(heads: BertHead[], what: string): void {
    if (!heads.includes(this.head)) {
      throw new BertError(`${what} needs a ${heads.map((h) => CLASS_OF_HEAD[h]).join(' or ')} checkpoint; this one is ${CLASS_OF_HEAD[this.head]} (${this.task})`);
    }
  }

  private maxLen(requested?: number): number {
    if (requested === undefined) return this.maxLength;
    if (!Number.isInteger(requested) || requested < 2 || requested > this.maxLength) {
      throw new BertError(`max length must be an integer from 2 to ${this.maxLength}, got ${requested}`);
    }
    return requested;
  }

  /** Hidden-state indices (0 = embeddings, L = last) for HF-style layer numbers (-1 = last). */
  private layerIndices(layers: number[] = [-1]): number[] {
    const L = this.config.num_hidden_layers;
    return layers.map((l) => {
      const i = l < 0 ? L + 1 + l : l;
      if (!Number.isInteger(l) || i < 0 || i > L) throw new BertError(`layer ${l} does not exist: the model has hidden states 0..${L} (or -1..-${L + 1})`);
      return i;
    });
  }

  /**
   * Runs `encodings` in length buckets through the graph for `purpose`; `take` reads each sequence's
   * result from its batch's outputs (b = row within the batch, S = padded length).
   */
  private async runBuckets<T>(
    encodings: Encoding[],
    purpose: GraphPurpose,
    take: (out: Record<string, HostTensor>, b: number, S: number, enc: Encoding, index: number) => T,
    extraFeeds?: (batch: number[]) => Record<string, HostTensor>,
  ): Promise<T[]> {
    const session = await this.session(purpose);
    const results = new Array<T>(encodings.length);
    for (const batch of lengthBuckets(encodings.map((e) => e.input_ids.length), this.limits)) {
      const { feeds, seq } = batchFeeds(batch.map((i) => encodings[i]!), this.tokenizer.specialIds.pad);
      const all: Record<string, HostTensor> = { ...feeds, ...(extraFeeds?.(batch) ?? {}) };
      // A graph that stops at the embeddings does not read attention_mask: feed only what it takes.
      const out = await session.run(Object.fromEntries(session.inputs.map((v) => [v.name, all[v.name]!])));
      batch.forEach((i, b) => {
        results[i] = take(out, b, seq, encodings[i]!, i);
      });
    }
    return results;
  }

  async embed(texts: string[], opts: EmbedOptions): Promise<number[][]> {
    const H = this.config.hidden_size;
    if (opts.pooling === 'pooler') {
      if (opts.layers !== undefined && (opts.layers.length !== 1 || opts.layers[0] !== -1)) throw new BertError("pooling 'pooler' reads the last layer only; drop --layers");
      if (!this.weights.has('bert.pooler.dense.weight')) throw new BertError(`this ${CLASS_OF_HEAD[this.head]} checkpoint has no pooler; use pooling cls or mean`);
    }
    const layers = this.layerIndices(opts.layers);
    const encodings = this.tokenizer.encodeBatch(texts, { max_length: this.maxLen(opts.maxLength) });
    const purpose: GraphPurpose = { kind: 'states', layers: opts.pooling === 'pooler' ? [] : layers, pooler: opts.pooling === 'pooler' };
    return this.runBuckets(encodings, purpose, (out, b, S, enc) => {
      let v: number[];
      if (opts.pooling === 'pooler') v = Array.from(rowOf(out.pooler_output!.data as Float32Array, b, H));
      else {
        v = layers.flatMap((l) => {
          const states = out[`hidden.${l}`]!.data as Float32Array;
          if (opts.pooling === 'cls') return Array.from(rowOf(states, b * S, H));
          // Mean over the real tokens ([CLS] and [SEP] included), as sentence-transformers does.
          const sum = new Float64Array(H);
          let n = 0;
          for (let s = 0; s < enc.input_ids.length; s++) {
            if (enc.attention_mask[s] === 0) continue;
            const row = rowOf(states, b * S + s, H);
            for (let h = 0; h < H; h++) sum[h]! += row[h]!;
            n++;
          }
          return Array.from(sum, (x) => x / n);
        });
      }
      return opts.normalize ? l2Normalize(v) : v;
    });
  }

  async tokenStates(texts: string[], opts: Omit<EmbedOptions, 'pooling' | 'normalize'> = {}): Promise<TokenStates[]> {
    const H = this.config.hidden_size;
    const layers = this.layerIndices(opts.layers);
    const encodings = this.tokenizer.encodeBatch(texts, { max_length: this.maxLen(opts.maxLength) });
    return this.runBuckets(encodings, { kind: 'states', layers, pooler: false }, (out, b, S, enc) => ({
      tokens: enc.tokens,
      hidden_states: enc.tokens.map((_, s) => layers.flatMap((l) => Array.from(rowOf(out[`hidden.${l}`]!.data as Float32Array, b * S + s, H)))),
    }));
  }

  async fillMask(texts: string[], k: number): Promise<MaskPrediction[][][]> {
    this.requireHead(['pretraining', 'masked_lm'], 'fill-mask');
    const V = this.config.vocab_size;
    const maskId = this.tokenizer.specialIds.mask;
    const encodings = texts.map((t) => this.encodeWithMasks(t));
    const positions = encodings.map((e, i) => {
      const p = e.input_ids.flatMap((id, s) => (id === maskId ? [s] : []));
      if (p.length === 0) throw new BertError(`no [MASK] token in text ${i + 1}: ${JSON.stringify(texts[i]!.slice(0, 80))}`);
      return p;
    });
    let P = 0;
    const feedPositions = (batch: number[]): Record<string, HostTensor> => {
      P = Math.max(...batch.map((i) => positions[i]!.length));
      const data = new BigInt64Array(batch.length * P); // unused slots point at [CLS] and are ignored
      batch.forEach((i, b) => positions[i]!.forEach((s, j) => (data[b * P + j] = BigInt(s))));
      return { masked_lm_positions: { dtype: 'int64', shape: [batch.length, P], data } };
    };
    return this.runBuckets(
      encodings,
      { kind: 'fill-mask' },
      // P is the batch's mask count, set by feedPositions just before this batch ran.
      (out, b, _S, enc, i) =>
        positions[i]!.map((s, j) => {
          const probs = softmax(rowOf(out.prediction_logits!.data as Float32Array, b * P + j, V));
          return topK(probs, k).map((id) => {
            const ids = enc.input_ids.slice();
            ids[s] = id;
            return { score: probs[id]!, token: id, token_str: this.tokenizer.idToToken(id), sequence: this.tokenizer.decode(ids, { skipSpecialTokens: true }) };
          });
        }),
      feedPositions,
    );
  }

  /**
   * `[CLS] text [SEP]` where each literal "[MASK]" in the text is the mask token, as Hugging Face's
   * tokenizers treat special tokens written in the input (our WordPiece splits it as plain text);
   * cut to `maxLength` tokens.
   */
  encodeWithMasks(text: string, maxLength = this.maxLength): Encoding {
    const parts = text.split('[MASK]');
    const enc = this.tokenizer.encode('', undefined, { add_special_tokens: false });
    const push = (e: Encoding, shift: number, word: number) => {
      enc.tokens.push(...e.tokens);
      enc.input_ids.push(...e.input_ids);
      enc.token_type_ids.push(...e.token_type_ids);
      enc.attention_mask.push(...e.attention_mask);
      enc.offsets.push(...e.offsets.map(([a, b]): [number, number] => [a + shift, b + shift]));
      enc.word_ids.push(...e.word_ids.map((w) => (w === null ? null : w + word)));
      enc.sequence_ids.push(...e.sequence_ids);
    };
    let at = 0;
    let words = 0;
    parts.forEach((part, i) => {
      const e = this.tokenizer.encode(part, undefined, { add_special_tokens: false });
      push(e, at, words);
      words += new Set(e.word_ids).size;
      at += part.length;
      if (i < parts.length - 1) {
        const m = this.tokenizer.encode('', undefined, { add_special_tokens: false });
        m.tokens.push('[MASK]');
        m.input_ids.push(this.tokenizer.specialIds.mask);
        m.token_type_ids.push(0);
        m.attention_mask.push(1);
        m.offsets.push([0, '[MASK]'.length]);
        m.word_ids.push(0);
        m.sequence_ids.push(0);
        push(m, at, words++);
        at += '[MASK]'.length;
      }
    });
    const budget = maxLength - 2;
    const n = Math.min(enc.input_ids.length, budget);
    const sp = this.tokenizer.specialIds;
    return {
      tokens: ['[CLS]', ...enc.tokens.slice(0, n), '[SEP]'],
      input_ids: [sp.cls, ...enc.input_ids.slice(0, n), sp.sep],
      token_type_ids: new Array<number>(n + 2).fill(0),
      attention_mask: new Array<number>(n + 2).fill(1),
      offsets: [[0, 0], ...enc.offsets.slice(0, n), [0, 0]],
      word_ids: [null, ...enc.word_ids.slice(0, n), null],
      sequence_ids: [null, ...enc.sequence_ids.slice(0, n), null],
    };
  }

  private label(i: number): string {
    return this.config.id2label?.[i] ?? `LABEL_${i}`;
  }

  async classify(texts: Array<string | [string, string]>, k?: number, opts: { rawScores?: boolean } = {}): Promise<LabelScore[][]> {
    this.requireHead(['sequence_classification'], 'text classification');
    const C = this.numLabels;
    const encodings = this.tokenizer.encodeBatch(texts, { max_length: this.maxLength });
    const regression = C === 1 || this.config.problem_type === 'regression';
    const multiLabel = this.config.problem_type === 'multi_label_classification';
    return this.runBuckets(encodings, { kind: 'sequence-classification', numLabels: C }, (out, b) => {
      const logits = Array.from(rowOf(out.logits!.data as Float32Array, b, C));
      if (regression) return [{ label: 'score', score: logits[0]! }];
      const scores = opts.rawScores ? logits : multiLabel ? logits.map((x) => 1 / (1 + Math.exp(-x))) : softmax(logits);
      return topK(scores, k ?? C).map((i) => ({ label: this.label(i), score: scores[i]! }));
    });
  }

  async tokenClassify(texts: string[]): Promise<TokenEntity[][]> {
    this.requireHead(['token_classification'], 'token classification');
    const C = this.numLabels;
    const encodings = this.tokenizer.encodeBatch(texts, { max_length: this.maxLength });
    return this.runBuckets(encodings, { kind: 'token-classification', numLabels: C }, (out, b, S, enc) => {
      const probs = enc.input_ids.map((_, s) => softmax(rowOf(out.logits!.data as Float32Array, b * S + s, C)));
      return groupEntities(enc, probs, (i) => this.label(i));
    });
  }

  async answer(questions: Array<{ question: string; context: string }>, k = 1, opts: Partial<QaWindowOptions> = {}): Promise<Answer[][]> {
    this.requireHead(['question_answering'], 'question answering');
    // Hugging Face's question-answering pipeline defaults: 384-token windows, 64-piece questions.
    const windowOpts: QaWindowOptions = {
      max_length: opts.max_length ?? Math.min(384, this.maxLength),
      doc_stride: opts.doc_stride ?? 128,
      max_question_length: opts.max_question_length ?? 64,
    };
    if (windowOpts.max_length > this.maxLength) throw new BertError(`max_length ${windowOpts.max_length} is over the model's ${this.maxLength} positions`);
    const perQuestion = questions.map((q) => qaWindows(this.tokenizer, q.question, q.context, windowOpts));
    const windows = perQuestion.flat();
    const owner = perQuestion.flatMap((w, i) => w.map(() => i));
    const spans = await this.runBuckets(windows, { kind: 'question-answering' }, (out, b, S, enc, w) =>
      bestSpans(enc, rowOf(out.start_logits!.data as Float32Array, b, S), rowOf(out.end_logits!.data as Float32Array, b, S), questions[owner[w]!]!.context, k),
    );
    const grouped = perQuestion.map(() => [] as Answer[][]);
    spans.forEach((s, w) => grouped[owner[w]!]!.push(s));
    return grouped.map((g) => mergeWindowAnswers(g, k));
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s).dispose()));
  }
}
