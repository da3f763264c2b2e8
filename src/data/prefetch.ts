/**
 * Read-ahead for the training loop: a worker thread assembles the next `depth` batches while the
 * main thread trains, so a step never waits on disk. Batches come back in order, so the stream is
 * the same as calling dataset.batch() on consecutive slices of `order`.
 */
import { BertError } from '../errors.ts';
import type { PretrainingDataset } from './dataset.ts';
import type { PretrainingBatch } from './records.ts';
import { startWorker } from './worker.ts';

export interface PrefetchedBatch {
  /** Position in `order` of this batch's first example. */
  position: number;
  /** Position to resume from after this batch. */
  next_position: number;
  batch: PretrainingBatch;
}

export interface PrefetchOptions {
  /** Position in `order` to start at (a saved next_position when resuming); default 0. */
  start?: number;
  /** Drop a final batch smaller than batchSize; default false. */
  dropLast?: boolean;
}

type Reply = { position: number; batch: PretrainingBatch } | { position: number; error: string };

export async function* prefetchBatches(
  dataset: PretrainingDataset,
  order: Uint32Array,
  batchSize: number,
  depth = 4,
  opts: PrefetchOptions = {},
): AsyncGenerator<PrefetchedBatch> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const start = opts.start ?? 0;
  const stop = opts.dropLast ? start + Math.floor((order.length - start) / batchSize) * batchSize : order.length;
  if (start >= stop) return;
  const worker = startWorker('prefetch-worker', { source: dataset.source, order, batchSize });
  const ready = new Map<number, Reply>();
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (reply: Reply) => {
    ready.set(reply.position, reply);
    wake?.();
  });
  worker.on('error', (err) => {
    failure = err;
    wake?.();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`prefetch worker exited with code ${code}`);
    wake?.();
  });
  let requested = start;
  const request = (): void => {
    if (requested < stop) {
      worker.postMessage(requested);
      requested += batchSize;
    }
  };
  try {
    for (let i = 0; i < depth; i++) request();
    for (let position = start; position < stop; position += batchSize) {
      while (!ready.has(position)) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const reply = ready.get(position) as Reply;
      ready.delete(position);
      if ('error' in reply) throw new BertError(reply.error, dataset.path);
      request();
      yield { position, next_position: Math.min(stop, position + batchSize), batch: reply.batch };
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}

