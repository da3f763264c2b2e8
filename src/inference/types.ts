// What inference offers to the CLI and the server: one object per loaded model folder, batching and
// length-bucketing inside. Implementations live beside this file (pipeline.ts).
import type { BertConfig } from '../model/config.ts';
import type { QaWindowOptions } from './qa-windows.ts';

export type InferenceTask = 'feature-extraction' | 'fill-mask' | 'text-classification' | 'token-classification' | 'question-answering';

export interface EmbedOptions {
  /** cls: hidden state of [CLS]; mean: mask-aware mean over tokens; pooler: BERT's pooled output. */
  pooling: 'cls' | 'mean' | 'pooler';
  /** L2-normalise each embedding. */
  normalize?: boolean;
  /** Hidden layers to concatenate, negative from the end (-1 = last); default [-1]. */
  layers?: number[];
  /** Longest input in tokens (specials included); longer inputs are truncated. Default: the model's max. */
  maxLength?: number;
}

export interface TokenStates {
  tokens: string[];
  /** One row per token, layers concatenated as in EmbedOptions.layers. */
  hidden_states: number[][];
}

/** Hugging Face's fill-mask pipeline shape, everywhere (library, `bert fill-mask`, `bert serve`). */
export interface MaskPrediction {
  score: number;
  /** The token's id. */
  token: number;
  /** The token's text. */
  token_str: string;
  /** The input with this token in place of the mask. */
  sequence: string;
}

export interface LabelScore {
  label: string;
  score: number;
}

export interface TokenEntity {
  entity_group: string;
  score: number;
  word: string;
  /** Character span into the input text. */
  start: number;
  end: number;
}

export interface Answer {
  answer: string;
  score: number;
  start: number;
  end: number;
}

export interface InferenceModel {
  readonly config: BertConfig;
  /** The head the checkpoint carries; methods for other heads throw a BertError saying so. */
  readonly task: InferenceTask;
  /** Max input length in tokens. */
  readonly maxLength: number;
  tokenize(text: string): { tokens: string[]; input_ids: number[] };
  /**
   * Tokens the model reads for a text or a text pair, specials included, before any truncation (what
   * a server checks against its length limit). With `masks`, each literal "[MASK]" in a single text is one token, as fillMask reads it.
   */
  tokenCount(input: string | [string, string], opts?: { masks?: boolean }): number;
  embed(texts: string[], opts: EmbedOptions): Promise<number[][]>;
  tokenStates(texts: string[], opts: Omit<EmbedOptions, 'pooling' | 'normalize'>): Promise<TokenStates[]>;
  /** For each text, for each [MASK] in it, the top-k predictions best first. */
  fillMask(texts: string[], topK: number): Promise<MaskPrediction[][][]>;
  /**
   * Scores over the labels, best first: softmax (sigmoid for multi-label), or the logits with `rawScores`;
   * regression gives one {label: 'score'}.
   */
  classify(texts: Array<string | [string, string]>, topK?: number, opts?: { rawScores?: boolean }): Promise<LabelScore[][]>;
  tokenClassify(texts: string[]): Promise<TokenEntity[][]>;
  /** Contexts longer than one window are read in overlapping windows (doc_stride pieces apart); the best spans of all windows win. */
  answer(
    questions: Array<{ question: string; context: string }>,
    topK?: number,
    opts?: Partial<QaWindowOptions>,
  ): Promise<Answer[][]>;
  dispose(): Promise<void>;
}
