// `bert serve`'s HTTP server: a small Fastify app (limits, metrics and error hooks) around the route
// modules: TEI's routes (so TEI clients work unchanged), OpenAI's /v1/embeddings, and routes in the
// same style for the other BERT heads. Model calls go through the Batcher.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Batcher } from './batcher.ts';
import { RouteContext, type OffsetTokenizer, type ServerLimits } from './context.ts';
import { ApiError, type ErrorBody } from './errors.ts';
import { DEFAULT_HTTP_LIMITS, fastifyHttpOptions, type HttpLimits } from './limits.ts';
import { ServerMetrics } from './metrics.ts';
import { headRoutes } from './routes/heads.ts';
import { openAIRoutes } from './routes/openai.ts';
import { teiRoutes } from './routes/tei.ts';
import type { InferenceModel } from '../inference/types.ts';

export { SERVER_VERSION } from './routes/tei.ts';
export type { OffsetTokenizer } from './context.ts';

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

function resolveLimits(model: InferenceModel, options: ServerOptions): ServerLimits {
  return {
    modelId: options.modelId ?? 'bert',
    modelDtype: options.modelDtype ?? 'float32',
    maxBatchSize: options.maxBatchSize ?? 32,
    maxWaitMs: options.maxWaitMs ?? 5,
    maxInputLength: Math.min(options.maxInputLength ?? model.maxLength, model.maxLength),
    maxClientBatchSize: options.maxClientBatchSize ?? 256,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    pooling: options.pooling ?? 'cls',
    tokenizer: options.tokenizer,
  };
}

export function createServer(model: InferenceModel, options: ServerOptions = {}): BertServer {
  const limits = resolveLimits(model, options);
  const httpLimits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits };
  let inFlight = 0;
  // The gauges read `queue` only when /metrics is scraped, after both exist.
  const metrics = new ServerMetrics(
    () => queue.queueDepth,
    () => inFlight,
  );
  const queue = new Batcher({
    maxBatchSize: limits.maxBatchSize,
    maxWaitMs: limits.maxWaitMs,
    onBatch: (op, size, maxLength, seconds) => {
      metrics.batchSize.observe(size, { op });
      metrics.batchTokens.observe(maxLength, { op });
      metrics.inferenceSeconds.observe(seconds, { op });
    },
  });

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: limits.bodyLimit,
    // Keep-alive connections that are idle are closed at once on close(); busy ones finish first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...fastifyHttpOptions(httpLimits),
  });
  app.server.maxConnections = httpLimits.maxConnections;

  // JSON only, as TEI: a text/plain body is a 415, not a string to misread.
  app.removeContentTypeParser('text/plain');

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
    const api = toApiError(err, limits.bodyLimit);
    if (api.status >= 500) request.log.error(err);
    // TEI answers OpenAI's route with OpenAI's flat error shape {message, code, type}.
    if (request.url.startsWith('/v1/')) return reply.code(api.status).send({ message: api.message, code: api.status, type: api.errorType });
    return reply.code(api.status).send(api.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { error: `no route ${request.method} ${request.url.split('?')[0]}`, error_type: 'not_found' };
    return reply.code(404).send(body);
  });

  const ctx = new RouteContext(model, limits, metrics, queue);
  teiRoutes(app, ctx);
  openAIRoutes(app, ctx);
  headRoutes(app, ctx);

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
