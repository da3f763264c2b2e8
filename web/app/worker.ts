// The page's worker: opens the model, fine-tunes, predicts, zips the result. Everything heavy runs
// here so the page stays responsive; messages are in protocol.ts.
import { BACKEND_NAME, configureWasm } from '../../src/runtime/ort-web.ts';
import { FillMask } from './fill-mask.ts';
import { holdOut, parseLabeled } from './labeled.ts';
import { openModelFolder, type ModelFolder } from './model-folder.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { Classifier } from './train.ts';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  crossOriginIsolated: boolean;
  navigator: { hardwareConcurrency: number };
  location: { origin: string };
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

// Threads only where the page is cross-origin isolated (SharedArrayBuffer); one thread otherwise.
const threads = scope.crossOriginIsolated ? Math.max(1, Math.min(8, scope.navigator.hardwareConcurrency)) : 1;
configureWasm({ wasmPaths: `${scope.location.origin}/ort/`, threads });

let folder: ModelFolder | undefined;
let classifier: Classifier | undefined;
let fillMask: FillMask | undefined;
let stop = false;
let busy = false;

/** Lets queued messages (Stop) run between training steps. */
const yieldToMessages = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Frees the sessions of the previous model (ORT sessions hold WASM memory until released). */
async function release(): Promise<void> {
  await classifier?.dispose();
  await fillMask?.dispose();
  classifier = undefined;
  fillMask = undefined;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'load': {
      folder = openModelFolder(new Map(Object.entries(m.files).map(([k, v]) => [k, new Uint8Array(v)])));
      await release();
      const c = folder.config;
      const labels = c.id2label ? Object.values(c.id2label) : null;
      post({
        type: 'loaded',
        summary: `BERT L=${c.num_hidden_layers} H=${c.hidden_size} A=${c.num_attention_heads}, vocab ${c.vocab_size}, ${folder.tensors.size} tensors`,
        canFillMask: FillMask.possible(folder),
        labels,
        maxPositions: c.max_position_embeddings,
      });
      return;
    }
    case 'train': {
      if (!folder) throw new Error('open a model folder first');
      let train = parseLabeled(m.train, 'training set');
      let dev = m.dev.trim() === '' ? [] : parseLabeled(m.dev, 'dev set');
      if (dev.length === 0 && train.length >= 10) {
        ({ train, dev } = holdOut(train, 0.1, m.settings.seed));
        post({ type: 'message', text: `no dev set given: ${dev.length} of the examples are held out to score each epoch` });
      }
      stop = false;
      await classifier?.dispose();
      classifier = undefined;
      const t0 = performance.now();
      const result = await Classifier.train(folder, train, dev, m.settings, {
        onStart: (info) => post({ type: 'start', ...info }),
        onStep: async (r) => {
          post({ type: 'step', ...r, seconds: (performance.now() - t0) / 1000 });
          await yieldToMessages();
        },
        onEval: (r) => post({ type: 'eval', ...r }),
        onMessage: (text) => post({ type: 'message', text }),
        stopRequested: () => stop,
      });
      classifier = result.classifier;
      post({ type: 'done', stopped: result.stopped, steps: result.steps, losses: result.losses, seconds: (performance.now() - t0) / 1000 });
      return;
    }
    case 'classify':
      if (!classifier) throw new Error('fine-tune a classifier first');
      post({ type: 'classified', results: await classifier.classify(m.texts) });
      return;
    case 'fill-mask':
      if (!folder) throw new Error('open a model folder first');
      if (!FillMask.possible(folder)) throw new Error('this model has no masked-LM head (cls.predictions.*): fill-mask needs a pre-trained model');
      fillMask ??= await FillMask.compile(folder);
      post({ type: 'filled', results: await fillMask.fill(m.text) });
      return;
    case 'download': {
      if (!classifier) throw new Error('fine-tune a classifier first');
      const bytes = classifier.zip();
      post({ type: 'zip', name: 'bert-classifier.zip', bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'stop':
      return;
  }
}

scope.onmessage = (e) => {
  // Stop must act while a training run is in flight, so it bypasses the one-at-a-time queue.
  if (e.data.type === 'stop') {
    stop = true;
    return;
  }
  if (busy) {
    post({ type: 'error', text: 'busy: wait for the current job to finish (or press Stop)' });
    return;
  }
  busy = true;
  handle(e.data)
    .catch((err: unknown) => post({ type: 'error', text: err instanceof Error ? err.message : String(err) }))
    .finally(() => (busy = false));
};

post({ type: 'ready', backend: BACKEND_NAME, threads });
