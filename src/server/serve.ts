// `bert serve` as a library call: load a model folder, listen, and on SIGTERM/SIGINT stop accepting,
// answer what was already received, release the model, and return (the process then exits 0).
import { basename, resolve } from 'node:path';
import { BertError } from '../errors.ts';
import { loadInferenceModel } from '../inference/pipeline.ts';
import { createServer, type BertServer, type ServerOptions } from './app.ts';

export interface ServeOptions extends Omit<ServerOptions, 'tokenizer' | 'modelDtype'> {
  /** Default 127.0.0.1: loopback only unless told otherwise. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  quantize?: 'int8';
  fused?: boolean;
  threads?: number;
  /** Signals that stop the server; default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /** Status lines (listening, draining, stopped); default stdout. */
  log?: (line: string) => void;
  /** Called once listening, with the server (tests use it to find the port). */
  onListening?: (url: string, server: BertServer) => void;
}

/** Serves the model in `dir` until one of `signals` arrives; resolves after a graceful shutdown. */
export async function serveModel(dir: string, opts: ServeOptions = {}): Promise<void> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const model = await loadInferenceModel(dir, { quantize: opts.quantize, fused: opts.fused, threads: opts.threads, log });
  const server = createServer(model, {
    ...opts,
    modelId: opts.modelId ?? basename(resolve(dir)),
    modelDtype: opts.quantize === 'int8' ? 'int8' : 'float32',
    tokenizer: model.tokenizer,
  });
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8080;
  let url: string;
  try {
    url = await server.listen({ host, port });
  } catch (err) {
    await model.dispose();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new BertError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
    }
    throw err;
  }
  log(`bert serve: ${model.task} model ${dir} listening on ${url}`);
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const signal = await new Promise<NodeJS.Signals>((done) => {
    const handlers = signals.map((s) => {
      const h = () => {
        for (const [sig, fn] of handlers) process.off(sig, fn);
        done(s);
      };
      process.on(s, h);
      return [s, h] as const;
    });
    opts.onListening?.(url, server);
  });
  log(`bert serve: ${signal}: no new connections; finishing ${server.batcher.queueDepth} queued inputs`);
  await server.close();
  await model.dispose();
  log('bert serve: stopped');
}
