// Text Embeddings Inference's routes, so TEI clients work unchanged: /health, /info, /metrics,
// /embed, /predict, / (the model's main use) and /tokenize.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InferenceModel } from '../../inference/types.ts';
import type { RouteContext } from '../context.ts';
import { parseEmbed, parsePredict, parseTokenize } from '../requests.ts';

export const SERVER_VERSION = '0.1.0';

const SPECIAL_TOKENS = new Set(['[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]']);

function isSpecial(token: string): boolean {
  return SPECIAL_TOKENS.has(token) && token !== '[UNK]';
}

/** TEI's /info model_type: `{embedding: {pooling}}` or `{classifier: {id2label, label2id}}`; our other heads alike. */
function modelType(model: InferenceModel, pooling: string): Record<string, unknown> {
  const id2label = Object.fromEntries(Object.entries(model.config.id2label ?? {}).map(([k, v]) => [String(k), v]));
  const label2id = model.config.label2id ?? Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
  switch (model.task) {
    case 'feature-extraction':
      return { embedding: { pooling } };
    case 'text-classification':
      return { classifier: { id2label, label2id } };
    case 'token-classification':
      return { token_classifier: { id2label, label2id } };
    case 'fill-mask':
      return { fill_mask: { vocab_size: model.config.vocab_size } };
    case 'question-answering':
      return { question_answering: {} };
  }
}

interface SimpleToken {
  id: number;
  text: string;
  special: boolean;
  start: number | null;
  stop: number | null;
}

/** TEI's SimpleToken list: special tokens carry no span; others the text they cover. */
function simpleTokens(ctx: RouteContext, text: string, addSpecial: boolean): SimpleToken[] {
  const tokenizer = ctx.limits.tokenizer;
  if (tokenizer !== undefined) {
    const enc = tokenizer.encode(text, undefined, { add_special_tokens: addSpecial });
    return enc.tokens.map((token, i) => {
      const [start, stop] = enc.offsets[i]!;
      const special = enc.word_ids[i] === null;
      return { id: enc.input_ids[i]!, text: special ? token : text.slice(start, stop), special, start: special ? null : start, stop: special ? null : stop };
    });
  }
  const { tokens, input_ids } = ctx.model.tokenize(text);
  const out = tokens.map((token, i) => ({ id: input_ids[i]!, text: token, special: isSpecial(token), start: null, stop: null }));
  if (addSpecial) return out;
  return out.filter((t, i) => !((i === 0 && t.text === '[CLS]') || (i === out.length - 1 && t.text === '[SEP]')));
}

export function teiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { model, limits } = ctx;

  app.get('/health', async (_request, reply) => reply.code(200).send());

  app.get('/info', async () => ({
    model_id: limits.modelId,
    model_sha: null,
    model_dtype: limits.modelDtype,
    model_type: modelType(model, limits.pooling),
    max_concurrent_requests: 512,
    max_input_length: limits.maxInputLength,
    max_batch_tokens: limits.maxBatchSize * limits.maxInputLength,
    max_batch_requests: limits.maxBatchSize,
    max_client_batch_size: limits.maxClientBatchSize,
    auto_truncate: false,
    tokenization_workers: 1,
    version: SERVER_VERSION,
    sha: null,
    docker_label: null,
    // Ours, beyond TEI's fields:
    task: model.task,
    architectures: model.config.architectures ?? [],
    max_wait_ms: limits.maxWaitMs,
  }));

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render()));

  const embed = async (request: FastifyRequest) => {
    const req = parseEmbed(request.body, limits.maxClientBatchSize);
    const lengths = ctx.checkLengths(req.inputs.map((t) => model.tokenCount(t)), req.truncate);
    return ctx.infer(ctx.embedOp(req.normalize), req.inputs, lengths);
  };
  app.post('/embed', embed);

  const predict = async (request: FastifyRequest) => {
    ctx.requireTask('text-classification');
    const req = parsePredict(request.body, limits.maxClientBatchSize);
    const lengths = ctx.checkLengths(req.inputs.map((s) => model.tokenCount(s)), req.truncate);
    const scores = await ctx.infer(ctx.classifyOp(req.raw_scores), req.inputs, lengths);
    const sorted = scores.map((s) => [...s].sort((a, b) => b.score - a.score).map(({ score, label }) => ({ score, label })));
    return req.single ? sorted[0] : sorted;
  };
  app.post('/predict', predict);
  // TEI's root route serves the model's main use; huggingface_hub's InferenceClient posts here.
  app.post('/', model.task === 'text-classification' ? predict : embed);

  app.post('/tokenize', async (request) => {
    const req = parseTokenize(request.body, limits.maxClientBatchSize);
    return req.inputs.map((text) => simpleTokens(ctx, text, req.add_special_tokens));
  });
}
