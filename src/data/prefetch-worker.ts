// Worker side of prefetchBatches: opens the dataset once, then answers each request for the
// batch at a given position with that batch, its buffers transferred (not copied) back.
import { parentPort, workerData } from 'node:worker_threads';
import { openSource, type DatasetSource } from './dataset.ts';

const { source, order, batchSize } = workerData as { source: DatasetSource; order: Uint32Array; batchSize: number };
const dataset = openSource(source);
const port = parentPort;
if (port === null) throw new Error('prefetch-worker must run as a worker thread');

port.on('message', (position: number) => {
  try {
    const end = Math.min(order.length, position + batchSize);
    const batch = dataset.batch(Array.from(order.subarray(position, end)));
    const buffers = [
      batch.input_ids,
      batch.token_type_ids,
      batch.attention_mask,
      batch.masked_lm_positions,
      batch.masked_lm_ids,
      batch.next_sentence_label,
    ].map((a) => a.buffer as ArrayBuffer);
    port.postMessage({ position, batch }, buffers);
  } catch (err) {
    port.postMessage({ position, error: err instanceof Error ? err.message : String(err) });
  }
});
