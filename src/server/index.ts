export { createServer, SERVER_VERSION } from './app.ts';
export type { BertServer, OffsetTokenizer, ServerOptions } from './app.ts';
export { Batcher, lengthBucket } from './batcher.ts';
export type { BatchOp, BatcherOptions } from './batcher.ts';
export { ApiError } from './errors.ts';
export type { ErrorBody, ErrorType } from './errors.ts';
export { ServerMetrics } from './metrics.ts';
export { serveModel } from './serve.ts';
export type { ServeOptions } from './serve.ts';
