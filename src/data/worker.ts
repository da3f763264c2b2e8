import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` (beside this file) from the same kind of file we are: compiled JS
 * from dist, or TypeScript when running from source under tsx. tsx's loader hooks do not reach
 * worker threads on Node 20, so then the worker is a small script loading the .ts file via tsImport.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const target = new URL(`./${name}.ts`, import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(target)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData });
}
