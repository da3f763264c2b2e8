// What every route module shares: the model, the server's limits, the batcher behind `infer`, TEI's
// length rule, and the batch operations (one per model call shape, so equal calls share a batch).
import { BertError } from '../errors.ts';
import type { Answer, InferenceModel, InferenceTask, LabelScore, MaskPrediction, TokenEntity } from '../inference/types.ts';
import type { Encoding, EncodeOptions } from '../tokenizer/types.ts';
import type { Batcher, BatchOp } from './batcher.ts';
import { ApiError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';
import type { Sequence } from './requests.ts';

/** What /tokenize needs for character offsets; BertTokenizer has it. */
export interface OffsetTokenizer {
  encode(text: string, pair?: string, opts?: EncodeOptions): Encoding;
}

/** The server's limits and names, every default applied (createServer resolves ServerOptions to this). */
export interface ServerLimits {
  modelId: string;
  modelDtype: string;
  maxBatchSize: number;
  maxWaitMs: number;
  maxInputLength: number;
  maxClientBatchSize: number;
  bodyLimit: number;
  pooling: 'cls' | 'mean';
  tokenizer: OffsetTokenizer | undefined;
}

/** The head each task needs, named for the 404 a route answers when the model lacks it. */
const HEAD_NAMES: Record<Exclude<InferenceTask, 'feature-extraction'>, string> = {
  'text-classification': 'sequence-classification',
  'fill-mask': 'masked-language-modeling',
  'token-classification': 'token-classification',
  'question-answering': 'question-answering',
};

export class RouteContext {
  constructor(
    readonly model: InferenceModel,
    readonly limits: ServerLimits,
    readonly metrics: ServerMetrics,
    private readonly queue: Batcher,
  ) {}

  /** TEI's rule: without `truncate`, an input longer than max_input_length is a 413. */
  checkLengths(lengths: number[], truncate: boolean): number[] {
    const max = this.limits.maxInputLength;
    if (!truncate) {
      for (const n of lengths) {
        if (n > max) throw new ApiError(`\`inputs\` must have less than ${max} tokens. Given: ${n}`, 'validation');
      }
    }
    return lengths.map((n) => Math.min(n, max));
  }

  requireTask(task: Exclude<InferenceTask, 'feature-extraction'>): void {
    if (this.model.task !== task) {
      const architectures = (this.model.config.architectures ?? []).join(', ') || 'none';
      throw new ApiError(`this model has no ${HEAD_NAMES[task]} head (architectures: ${architectures})`, 'not_found');
    }
  }

  /** Runs inputs through the batcher; a model failure becomes TEI's 424 backend error. */
  async infer<I, O>(op: BatchOp<I, O>, inputs: I[], lengths: number[]): Promise<O[]> {
    try {
      return await this.queue.submit(op, inputs, lengths);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new ApiError(err instanceof BertError ? message : `inference failed: ${message}`, 'backend');
    }
  }

  embedOp(normalize: boolean): BatchOp<string, number[]> {
    const { pooling, maxInputLength } = this.limits;
    return {
      key: `embed:${pooling}:${normalize}:${maxInputLength}`,
      name: 'embed',
      run: (texts) => this.model.embed(texts, { pooling, normalize, maxLength: maxInputLength }),
    };
  }

  classifyOp(rawScores: boolean): BatchOp<Sequence, LabelScore[]> {
    return {
      key: `classify:${rawScores}`,
      name: 'classify',
      // Every label, so /predict can list them all as TEI does.
      run: (seqs) => this.model.classify(seqs, Math.max(1, Object.keys(this.model.config.id2label ?? {}).length), { rawScores }),
    };
  }

  fillMaskOp(topK: number): BatchOp<string, MaskPrediction[][]> {
    return { key: `fill-mask:${topK}`, name: 'fill_mask', run: (texts) => this.model.fillMask(texts, topK) };
  }

  tokenClassifyOp(): BatchOp<string, TokenEntity[]> {
    return { key: 'token-classification', name: 'token_classification', run: (texts) => this.model.tokenClassify(texts) };
  }

  answerOp(topK: number): BatchOp<{ question: string; context: string }, Answer[]> {
    return { key: `question-answering:${topK}`, name: 'question_answering', run: (pairs) => this.model.answer(pairs, topK) };
  }
}
