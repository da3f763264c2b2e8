// The other BERT heads, in TEI's style: /fill-mask, /token-classification, /question-answering. Each
// answers 404 when the model lacks its head.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { parseFillMask, parseQuestionAnswering, parseTokenClassification } from '../requests.ts';

export function headRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { model, limits } = ctx;

  app.post('/fill-mask', async (request) => {
    ctx.requireTask('fill-mask');
    const req = parseFillMask(request.body, limits.maxClientBatchSize);
    req.inputs.forEach((text, i) => {
      if (!text.includes('[MASK]')) throw new ApiError(`input ${i} has no [MASK] token`, 'tokenizer');
    });
    const lengths = ctx.checkLengths(req.inputs.map((t) => model.tokenCount(t, { masks: true })), req.truncate);
    const results = await ctx.infer(ctx.fillMaskOp(req.top_k), req.inputs, lengths);
    return req.single ? results[0] : results;
  });

  app.post('/token-classification', async (request) => {
    ctx.requireTask('token-classification');
    const req = parseTokenClassification(request.body, limits.maxClientBatchSize);
    const lengths = ctx.checkLengths(req.inputs.map((t) => model.tokenCount(t)), req.truncate);
    const results = await ctx.infer(ctx.tokenClassifyOp(), req.inputs, lengths);
    return req.single ? results[0] : results;
  });

  app.post('/question-answering', async (request) => {
    ctx.requireTask('question-answering');
    const req = parseQuestionAnswering(request.body, limits.maxClientBatchSize);
    // Long contexts are windowed by the model (doc stride), so only bucket by length here.
    const lengths = req.inputs.map((p) => Math.min(limits.maxInputLength, model.tokenCount([p.question, p.context])));
    const results = await ctx.infer(ctx.answerOp(req.top_k), req.inputs, lengths);
    const shaped = results.map((answers) => (req.top_k === 1 ? (answers[0] ?? null) : answers));
    return req.single ? shaped[0] : shaped;
  });
}
