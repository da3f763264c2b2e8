// `bert serve`'s HTTP server: Text Embeddings Inference's routes (so TEI clients work unchanged),
// OpenAI's /v1/embeddings, and routes in the same style for the other BERT heads. Model calls go
// through the Batcher; everything here is request checking and response shaping.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BertError } from '../errors.ts';
import type { Answer, InferenceModel, InferenceTask, LabelScore, MaskPrediction, TokenEntity } from '../inference/types.ts';
import type { Encoding, EncodeOptions } from '../tokenizer/types.ts';
import { Batcher, type BatchOp } from './batcher.ts';
import { ApiError, type ErrorBody } from './errors.ts';
import { DEFAULT_HTTP_LIMITS, fastifyHttpOptions, type HttpLimits } from './limits.ts';
import { ServerMetrics } from './metrics.ts';
import {
  parseEmbed,
  parseFillMask,
  parseOpenAIEmbeddings,
  parsePredict,
  parseQuestionAnswering,
  parseTokenClassification,
  parseTokenize,
  type Sequence,
} from './requests.ts';

export const SERVER_VERSION = '0.1.0';

/** What /tokenize needs for character offsets; BertTokenizer has it. */
export interface OffsetTokenizer {
  encode(text: string, pair?: string, opts?: EncodeOptions): Encoding;
}

export interface ServerOptions {
  /** Name in /info and in OpenAI responses; default "bert". */
  modelId?: string;
  /** /info's model_dtype; default "float32". */
  modelDtype?: string;
  /** Most inputs in one model call; default 32. */
  maxBatchSize?: number;
  /** Longest an input waits for others to share its model call; default 5 ms. */
  maxWaitMs?: number;
  /** Longest input in tokens, specials included; default and ceiling: the model's maxLength. */
  maxInputLength?: number;
  /** Most inputs in one request; default 256. */
  maxClientBatchSize?: number;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Pooling for /embed and /v1/embeddings; default cls, as TEI does for a BERT without a pooling config. */
  pooling?: 'cls' | 'mean';
  /** For character offsets in /tokenize; without one, start and stop are null. */
  tokenizer?: OffsetTokenizer;
  /** Fastify's request log (pino) to stdout; default off. */
  logger?: boolean;
  /** Timeouts and size limits against slow or hostile clients; defaults in DEFAULT_HTTP_LIMITS. */
  httpLimits?: Partial<HttpLimits>;
}

export interface BertServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  readonly batcher: Batcher;
  /** Starts listening (host default 127.0.0.1, port default 8080; 0 picks a free one) and returns the base URL. */
  listen(opts?: { host?: string; port?: number }): Promise<string>;
  /** Stops accepting connections, answers every request already received, then resolves. */
  close(): Promise<void>;
}

/** The head each task needs, named for the 404 a route answers when the model lacks it. */
const HEAD_NAMES: Record<Exclude<InferenceTask, 'feature-extraction'>, string> = {
  'text-classification': 'sequence-classification',
  'fill-mask': 'masked-language-modeling',
  'token-classification': 'token-classification',
  'question-answering': 'question-answering',
};

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

export function createServer(model: InferenceModel, options: ServerOptions = {}): BertServer {
  const maxBatchSize = options.maxBatchSize ?? 32;
  const maxWaitMs = options.maxWaitMs ?? 5;
  const maxInputLength = Math.min(options.maxInputLength ?? model.maxLength, model.maxLength);
  const maxClientBatchSize = options.maxClientBatchSize ?? 256;
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const httpLimits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits };
  const pooling = options.pooling ?? 'cls';
  const modelId = options.modelId ?? 'bert';
  const architectures = (model.config.architectures ?? []).join(', ') || 'none';

  let inFlight = 0;
  // The gauges read `queue` only when /metrics is scraped, after both exist.
  const metrics = new ServerMetrics(
    () => queue.queueDepth,
    () => inFlight,
  );
  const queue = new Batcher({
    maxBatchSize,
    maxWaitMs,
    onBatch: (op, size, maxLength, seconds) => {
      metrics.batchSize.observe(size, { op });
      metrics.batchTokens.observe(maxLength, { op });
      metrics.inferenceSeconds.observe(seconds, { op });
    },
  });

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // Keep-alive connections that are idle are closed at once on close(); busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...fastifyHttpOptions(httpLimits),
  });
  app.server.maxConnections = httpLimits.maxConnections;

  // JSON only, as TEI: a text/plain body is a 415, not a string to misread.
  app.removeContentTypeParser('text/plain');

  // ---- length checks -----------------------------------------------------------------------------

  /**
   * Tokens in a text with [CLS] and [SEP]. The offset tokenizer counts untruncated (a model's
   * tokenize may already cut at its max length, which would hide an over-long input).
   */
  const tokenCount = (text: string, pair?: string): number => {
    if (options.tokenizer !== undefined) return options.tokenizer.encode(text, pair).input_ids.length;
    const count = (t: string): number => {
      const enc = model.tokenize(t);
      return enc.input_ids.length + (enc.tokens[0] === '[CLS]' ? 0 : 2);
    };
    return pair === undefined ? count(text) : count(text) + count(pair) - 1;
  };
  const sequenceLength = (s: Sequence): number => (typeof s === 'string' ? tokenCount(s) : tokenCount(s[0], s[1]));
  /** A literal "[MASK]" is one token to the fill-mask head, whatever the plain tokenizer makes of it. */
  const maskedLength = (text: string): number => {
    const parts = text.split('[MASK]');
    return parts.reduce((n, part) => n + tokenCount(part) - 2, 2) + parts.length - 1;
  };

  /** TEI's rule: without `truncate`, an input longer than max_input_length is a 413. */
  const checkLengths = (lengths: number[], truncate: boolean): number[] => {
    if (!truncate) {
      for (const n of lengths) {
        if (n > maxInputLength) throw new ApiError(`\`inputs\` must have less than ${maxInputLength} tokens. Given: ${n}`, 'validation');
      }
    }
    return lengths.map((n) => Math.min(n, maxInputLength));
  };

  const requireTask = (task: Exclude<InferenceTask, 'feature-extraction'>): void => {
    if (model.task !== task) throw new ApiError(`this model has no ${HEAD_NAMES[task]} head (architectures: ${architectures})`, 'not_found');
  };

  /** Runs inputs through the batcher; a model failure becomes TEI's 424 backend error. */
  const infer = async <I, O>(op: BatchOp<I, O>, inputs: I[], lengths: number[]): Promise<O[]> => {
    try {
      return await queue.submit(op, inputs, lengths);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new ApiError(err instanceof BertError ? message : `inference failed: ${message}`, 'backend');
    }
  };

  const embedOp = (normalize: boolean): BatchOp<string, number[]> => ({
    key: `embed:${pooling}:${normalize}:${maxInputLength}`,
    name: 'embed',
    run: (texts) => model.embed(texts, { pooling, normalize, maxLength: maxInputLength }),
  });
  const classifyOp = (rawScores: boolean): BatchOp<Sequence, LabelScore[]> => ({
    key: `classify:${rawScores}`,
    name: 'classify',
    // Every label, so /predict can list them all as TEI does.
    run: (seqs) => model.classify(seqs, Math.max(1, Object.keys(model.config.id2label ?? {}).length), { rawScores }),
  });
  const fillMaskOp = (topK: number): BatchOp<string, MaskPrediction[][]> => ({
    key: `fill-mask:${topK}`,
    name: 'fill_mask',
    run: (texts) => model.fillMask(texts, topK),
  });
  const tokenClassifyOp: BatchOp<string, TokenEntity[]> = {
    key: 'token-classification',
    name: 'token_classification',
    run: (texts) => model.tokenClassify(texts),
  };
  const answerOp = (topK: number): BatchOp<{ question: string; context: string }, Answer[]> => ({
    key: `question-answering:${topK}`,
    name: 'question_answering',
    run: (pairs) => model.answer(pairs, topK),
  });

  // ---- hooks: metrics and errors ------------------------------------------------------------------

  let closing = false;
  app.addHook('onRequest', async () => {
    inFlight++;
  });
  // Once closing, answer with `Connection: close` so keep-alive sockets end with their last response
  // instead of holding close() open until the keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    inFlight--;
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.latency.observe(reply.elapsedTime / 1000, { route });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const api = toApiError(err, bodyLimit);
    if (api.status >= 500) request.log.error(err);
    // TEI answers OpenAI's route with OpenAI's flat error shape {message, code, type}.
    if (request.url.startsWith('/v1/')) return reply.code(api.status).send({ message: api.message, code: api.status, type: api.errorType });
    return reply.code(api.status).send(api.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { error: `no route ${request.method} ${request.url.split('?')[0]}`, error_type: 'not_found' };
    return reply.code(404).send(body);
  });

  // ---- TEI routes ----------------------------------------------------------------------------------

  app.get('/health', async (_request, reply) => reply.code(200).send());

  app.get('/info', async () => ({
    model_id: modelId,
    model_sha: null,
    model_dtype: options.modelDtype ?? 'float32',
    model_type: modelType(model, pooling),
    max_concurrent_requests: 512,
    max_input_length: maxInputLength,
    max_batch_tokens: maxBatchSize * maxInputLength,
    max_batch_requests: maxBatchSize,
    max_client_batch_size: maxClientBatchSize,
    auto_truncate: false,
    tokenization_workers: 1,
    version: SERVER_VERSION,
    sha: null,
    docker_label: null,
    // Ours, beyond TEI's fields:
    task: model.task,
    architectures: model.config.architectures ?? [],
    max_wait_ms: maxWaitMs,
  }));

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render()));

  const embed = async (request: FastifyRequest) => {
    const req = parseEmbed(request.body, maxClientBatchSize);
    const lengths = checkLengths(req.inputs.map((t) => tokenCount(t)), req.truncate);
    return infer(embedOp(req.normalize), req.inputs, lengths);
  };
  app.post('/embed', embed);

  const predict = async (request: FastifyRequest) => {
    requireTask('text-classification');
    const req = parsePredict(request.body, maxClientBatchSize);
    const lengths = checkLengths(req.inputs.map(sequenceLength), req.truncate);
    const scores = await infer(classifyOp(req.raw_scores), req.inputs, lengths);
    const sorted = scores.map((s) => [...s].sort((a, b) => b.score - a.score).map(({ score, label }) => ({ score, label })));
    return req.single ? sorted[0] : sorted;
  };
  app.post('/predict', predict);
  // TEI's root route serves the model's main use; huggingface_hub's InferenceClient posts here.
  app.post('/', model.task === 'text-classification' ? predict : embed);

  app.post('/tokenize', async (request) => {
    const req = parseTokenize(request.body, maxClientBatchSize);
    return req.inputs.map((text) => simpleTokens(text, req.add_special_tokens));
  });

  /** TEI's SimpleToken list: special tokens carry no span; others the text they cover. */
  const simpleTokens = (text: string, addSpecial: boolean): Array<{ id: number; text: string; special: boolean; start: number | null; stop: number | null }> => {
    if (options.tokenizer !== undefined) {
      const enc = options.tokenizer.encode(text, undefined, { add_special_tokens: addSpecial });
      return enc.tokens.map((token, i) => {
        const [start, stop] = enc.offsets[i]!;
        const special = enc.word_ids[i] === null;
        return { id: enc.input_ids[i]!, text: special ? token : text.slice(start, stop), special, start: special ? null : start, stop: special ? null : stop };
      });
    }
    const { tokens, input_ids } = model.tokenize(text);
    const out = tokens.map((token, i) => ({ id: input_ids[i]!, text: token, special: isSpecial(token), start: null, stop: null }));
    if (addSpecial) return out;
    return out.filter((t, i) => !((i === 0 && t.text === '[CLS]') || (i === out.length - 1 && t.text === '[SEP]')));
  };

  // ---- OpenAI ------------------------------------------------------------------------------------

  app.post('/v1/embeddings', async (request) => {
    const req = parseOpenAIEmbeddings(request.body, maxClientBatchSize);
    const lengths = req.input.map((t) => tokenCount(t));
    // OpenAI truncates nothing silently either: too long is an error.
    const clipped = checkLengths(lengths, false);
    const vectors = await infer(embedOp(true), req.input, clipped);
    const tokens = lengths.reduce((a, b) => a + b, 0);
    return {
      object: 'list',
      data: vectors.map((v, index) => ({
        object: 'embedding',
        embedding: req.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
        index,
      })),
      model: req.model ?? modelId,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });

  // ---- the other heads, in TEI's style ------------------------------------------------------------

  app.post('/fill-mask', async (request) => {
    requireTask('fill-mask');
    const req = parseFillMask(request.body, maxClientBatchSize);
    req.inputs.forEach((text, i) => {
      if (!text.includes('[MASK]')) throw new ApiError(`input ${i} has no [MASK] token`, 'tokenizer');
    });
    const lengths = checkLengths(req.inputs.map(maskedLength), req.truncate);
    const results = await infer(fillMaskOp(req.top_k), req.inputs, lengths);
    // Hugging Face's fill-mask pipeline names: token is the id, token_str the text.
    const shaped = results.map((masks) => masks.map((preds) => preds.map((p) => ({ score: p.score, token: p.token_id, token_str: p.token, sequence: p.sequence }))));
    return req.single ? shaped[0] : shaped;
  });

  app.post('/token-classification', async (request) => {
    requireTask('token-classification');
    const req = parseTokenClassification(request.body, maxClientBatchSize);
    const lengths = checkLengths(req.inputs.map((t) => tokenCount(t)), req.truncate);
    const results = await infer(tokenClassifyOp, req.inputs, lengths);
    return req.single ? results[0] : results;
  });

  app.post('/question-answering', async (request) => {
    requireTask('question-answering');
    const req = parseQuestionAnswering(request.body, maxClientBatchSize);
    // Long contexts are windowed by the model (doc stride), so only bucket by length here.
    const lengths = req.inputs.map((p) => Math.min(maxInputLength, tokenCount(p.question, p.context)));
    const results = await infer(answerOp(req.top_k), req.inputs, lengths);
    const shaped = results.map((answers) => (req.top_k === 1 ? (answers[0] ?? null) : answers));
    return req.single ? shaped[0] : shaped;
  });

  return {
    app,
    metrics,
    batcher: queue,
    async listen(opts = {}) {
      const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
      return address;
    },
    async close() {
      closing = true;
      // fastify's close stops the listener, waits for in-flight requests (whose inputs the batcher
      // keeps serving), then resolves.
      await app.close();
      await queue.drain();
    },
  };
}

/** Framework errors (body too big, bad JSON, wrong content type) as TEI-shaped API errors. */
function toApiError(err: FastifyError, bodyLimit: number): ApiError {
  if (err instanceof ApiError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(`request body is larger than the limit of ${bodyLimit} bytes`, 'validation', 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('Content-Type must be application/json', 'validation', 415);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('request body is empty; expected a JSON object', 'empty', 400);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(`malformed JSON: ${err.message}`, 'validation', 400);
  }
  if (err instanceof SyntaxError || err.statusCode === 400) return new ApiError(`malformed JSON: ${err.message}`, 'validation', 400);
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.message, 'validation', err.statusCode);
  return new ApiError(`internal error: ${err.message}`, 'backend', 500);
}
