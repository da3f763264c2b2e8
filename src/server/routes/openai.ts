// OpenAI's /v1/embeddings (errors in OpenAI's flat shape: see the error handler in app.ts).
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';
import { parseOpenAIEmbeddings } from '../requests.ts';

export function openAIRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/embeddings', async (request) => {
    const req = parseOpenAIEmbeddings(request.body, ctx.limits.maxClientBatchSize);
    const lengths = req.input.map((t) => ctx.model.tokenCount(t));
    // OpenAI truncates nothing silently either: too long is an error.
    const clipped = ctx.checkLengths(lengths, false);
    const vectors = await ctx.infer(ctx.embedOp(true), req.input, clipped);
    const tokens = lengths.reduce((a, b) => a + b, 0);
    return {
      object: 'list',
      data: vectors.map((v, index) => ({
        object: 'embedding',
        embedding: req.encoding_format === 'base64' ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
        index,
      })),
      model: req.model ?? ctx.limits.modelId,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });
}
