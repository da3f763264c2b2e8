// A deterministic InferenceModel for the server's tests and bench: outputs simple enough to work out
// by hand, every call recorded (method and batch size), an optional delay to hold calls in flight.
import { setTimeout as sleep } from 'node:timers/promises';
import { BertError } from '../../src/errors.ts';
import type { Answer, EmbedOptions, InferenceModel, InferenceTask, LabelScore, MaskPrediction, TokenEntity, TokenStates } from '../../src/inference/types.ts';
import { makeConfig, type BertConfig } from '../../src/model/config.ts';

export interface FakeCall {
  method: string;
  inputs: unknown[];
}

const ARCHITECTURES: Record<InferenceTask, string> = {
  'feature-extraction': 'BertModel',
  'fill-mask': 'BertForPreTraining',
  'text-classification': 'BertForSequenceClassification',
  'token-classification': 'BertForTokenClassification',
  'question-answering': 'BertForQuestionAnswering',
};

/** Words split on spaces; each word one token, id = 5 + its length (so ids are easy to predict). */
export function fakeTokens(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '').map((w) => (w === '[MASK]' ? w : w.toLowerCase()));
}

/** Masked-LM guesses, best first, with their scores. */
export const FAKE_MASK_GUESSES: Array<[string, number]> = [
  ['paris', 0.5],
  ['london', 0.25],
  ['rome', 0.125],
  ['berlin', 0.0625],
  ['madrid', 0.03125],
  ['oslo', 0.015625],
];

export class FakeModel implements InferenceModel {
  readonly config: BertConfig;
  readonly calls: FakeCall[] = [];
  /** When set, every model call fails with this message (inputs containing `fail` always fail). */
  failWith: string | undefined;

  constructor(
    readonly task: InferenceTask,
    readonly maxLength = 16,
    private readonly delayMs = 0,
  ) {
    this.config = makeConfig(
      { vocab_size: 99, hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 4, max_position_embeddings: maxLength },
      {
        architectures: [ARCHITECTURES[task]],
        ...(task === 'text-classification' ? { id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' }, label2id: { NEGATIVE: 0, POSITIVE: 1 } } : {}),
      },
    );
  }

  tokenize(text: string): { tokens: string[]; input_ids: number[] } {
    const tokens = ['[CLS]', ...fakeTokens(text), '[SEP]'];
    return { tokens, input_ids: tokens.map((t) => (t === '[CLS]' ? 2 : t === '[SEP]' ? 3 : t === '[MASK]' ? 4 : 5 + t.length)) };
  }

  /** [CLS] words [SEP] (a pair: [CLS] a [SEP] b [SEP]); with `masks`, the text split at each "[MASK]" and one token for each. */
  tokenCount(input: string | [string, string], opts: { masks?: boolean } = {}): number {
    const count = (t: string): number => this.tokenize(t).input_ids.length;
    if (typeof input !== 'string') return count(input[0]) + count(input[1]) - 1;
    if (opts.masks !== true) return count(input);
    const parts = input.split('[MASK]');
    return parts.reduce((n, part) => n + count(part) - 2, 2) + parts.length - 1;
  }

  private async record(method: string, inputs: unknown[]): Promise<void> {
    this.calls.push({ method, inputs });
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.failWith !== undefined) throw new Error(this.failWith);
    if (inputs.some((i) => JSON.stringify(i).includes('fail'))) throw new BertError('the fake model fails on "fail"');
  }

  private requireTask(task: InferenceTask): void {
    if (this.task !== task) throw new BertError(`this model has no ${task} head`);
  }

  /** [tokens (specials included, truncated), characters, 1, 0]; L2-normalised on request. */
  async embed(texts: string[], opts: EmbedOptions): Promise<number[][]> {
    await this.record('embed', texts);
    return texts.map((t) => {
      const v = [Math.min(this.tokenize(t).tokens.length, opts.maxLength ?? this.maxLength), t.length, 1, 0];
      if (!opts.normalize) return v;
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    });
  }

  async tokenStates(texts: string[]): Promise<TokenStates[]> {
    await this.record('tokenStates', texts);
    return texts.map((t) => {
      const tokens = this.tokenize(t).tokens;
      return { tokens, hidden_states: tokens.map((_, i) => [i, 0, 0, 0]) };
    });
  }

  async fillMask(texts: string[], topK: number): Promise<MaskPrediction[][][]> {
    this.requireTask('fill-mask');
    await this.record('fillMask', texts);
    return texts.map((t) => {
      const masks = fakeTokens(t).filter((w) => w === '[MASK]').length;
      return Array.from({ length: masks }, () =>
        FAKE_MASK_GUESSES.slice(0, topK).map(([token, score], i) => ({ score, token: 10 + i, token_str: token, sequence: t.replace('[MASK]', token) })),
      );
    });
  }

  /** P(POSITIVE) = (count of "good" + 1) / (words + 2). */
  async classify(texts: Array<string | [string, string]>, topK?: number): Promise<LabelScore[][]> {
    this.requireTask('text-classification');
    await this.record('classify', texts);
    return texts.map((t) => {
      const words = fakeTokens(typeof t === 'string' ? t : `${t[0]} ${t[1]}`);
      const p = (words.filter((w) => w === 'good').length + 1) / (words.length + 2);
      const scores = [
        { label: 'NEGATIVE', score: 1 - p },
        { label: 'POSITIVE', score: p },
      ].sort((a, b) => b.score - a.score);
      return scores.slice(0, topK ?? 1);
    });
  }

  /** Every capitalised word is a PER entity, score 0.9. */
  async tokenClassify(texts: string[]): Promise<TokenEntity[][]> {
    this.requireTask('token-classification');
    await this.record('tokenClassify', texts);
    return texts.map((t) => [...t.matchAll(/\b[A-Z][a-z]*\b/g)].map((m) => ({ entity_group: 'PER', score: 0.9, word: m[0], start: m.index, end: m.index + m[0].length })));
  }

  /** The context's longest words, longest first, score 1 / rank. */
  async answer(questions: Array<{ question: string; context: string }>, topK = 1): Promise<Answer[][]> {
    this.requireTask('question-answering');
    await this.record('answer', questions);
    return questions.map(({ context }) =>
      [...context.matchAll(/\w+/g)]
        .sort((a, b) => b[0].length - a[0].length || a.index - b.index)
        .slice(0, topK)
        .map((m, i) => ({ answer: m[0], score: 1 / (i + 1), start: m.index, end: m.index + m[0].length })),
    );
  }

  async dispose(): Promise<void> {}
}
