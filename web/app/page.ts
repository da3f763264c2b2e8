// The page: reads the user's files, talks to the worker (worker.ts), draws progress and the loss curve.
import type { FromWorker, ToWorker, TrainSettings } from './protocol.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

/** Files larger than this are refused before reading: a tab holds the model several times over. */
const MAX_MODEL_BYTES = 1.5e9;
const MAX_TEXT_BYTES = 50e6;

const losses: number[] = [];
let steps = 0;

function showError(text: string): void {
  const e = $('error');
  e.textContent = text;
  e.hidden = false;
}

function setBusy(training: boolean): void {
  $<HTMLButtonElement>('train').disabled = training;
  $<HTMLButtonElement>('stop').disabled = !training;
}

async function openFiles(list: FileList | File[]): Promise<void> {
  $('error').hidden = true;
  const files = [...list];
  const total = files.reduce((n, f) => n + f.size, 0);
  if (files.length === 0) return;
  if (total > MAX_MODEL_BYTES) {
    showError(`the folder holds ${(total / 1e9).toFixed(1)} GB; this page takes models up to ${MAX_MODEL_BYTES / 1e9} GB (BERT-base is 0.44 GB)`);
    return;
  }
  const wanted = files.filter((f) => /^(config\.json|model\.safetensors|pytorch_model\.bin|vocab\.txt|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$/.test(f.name));
  const buffers: Record<string, ArrayBuffer> = {};
  for (const f of wanted) buffers[f.name] = await f.arrayBuffer();
  $('model-status').textContent = `reading ${wanted.length} files…`;
  send({ type: 'load', files: buffers }, Object.values(buffers));
}

async function openServedModel(): Promise<void> {
  $('error').hidden = true;
  $('model-status').textContent = 'fetching the served model…';
  const names = (await (await fetch('served-model/index.json')).json()) as string[];
  const files = await Promise.all(names.map(async (n) => new File([await (await fetch(`served-model/${n}`)).arrayBuffer()], n)));
  await openFiles(files);
}

async function textOf(area: string, file: string): Promise<{ text: string; name: string }> {
  const f = $<HTMLInputElement>(file).files?.[0];
  if (f) {
    if (f.size > MAX_TEXT_BYTES) throw new Error(`${f.name} is ${(f.size / 1e6).toFixed(0)} MB; this page takes labeled sets up to ${MAX_TEXT_BYTES / 1e6} MB`);
    return { text: await f.text(), name: f.name };
  }
  return { text: $<HTMLTextAreaElement>(area).value, name: 'pasted' };
}

function settings(): TrainSettings {
  const num = (id: string): number => Number($<HTMLInputElement>(id).value);
  return {
    epochs: num('epochs'), lr: num('lr'), batchSize: num('batch-size'), maxSeqLength: num('max-seq-length'),
    warmupRatio: num('warmup-ratio'), weightDecay: num('weight-decay'), seed: num('seed'),
  };
}

function drawCurve(): void {
  const svg = $('curve');
  if (losses.length === 0) {
    svg.innerHTML = '';
    return;
  }
  const max = Math.max(...losses);
  const min = Math.min(0, ...losses);
  const n = Math.max(steps, losses.length, 2);
  const x = (i: number): number => 40 + (550 * i) / (n - 1);
  const y = (v: number): number => 185 - (170 * (v - min)) / (max - min || 1);
  const points = losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  svg.innerHTML = `<line x1="40" y1="185" x2="590" y2="185" stroke="#ccc"/><line x1="40" y1="15" x2="40" y2="185" stroke="#ccc"/>`
    + `<text x="2" y="20">${max.toFixed(2)}</text><text x="2" y="188">${min.toFixed(2)}</text><text x="500" y="198">step ${losses.length}/${steps}</text>`
    + `<text x="50" y="12">training loss</text><polyline points="${points}"/>`;
}

const eta = (seconds: number, done: number, total: number): string => {
  const left = (seconds / done) * (total - done);
  return left < 60 ? `${left.toFixed(0)} s` : `${Math.floor(left / 60)} min ${Math.round(left % 60)} s`;
};

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      $('backend').textContent = `${m.backend}, ${m.threads} thread${m.threads === 1 ? '' : 's'}`;
      break;
    case 'loaded':
      $('model-status').textContent = `opened: ${m.summary}${m.labels ? `, labels ${m.labels.join(', ')}` : ''}`;
      $<HTMLButtonElement>('train').disabled = false;
      $<HTMLButtonElement>('fill').disabled = !m.canFillMask;
      $<HTMLInputElement>('max-seq-length').value = String(Math.min(Number($<HTMLInputElement>('max-seq-length').value), m.maxPositions));
      break;
    case 'message':
      $('train-status').textContent = m.text;
      break;
    case 'start':
      steps = m.steps;
      losses.length = 0;
      $('evals').innerHTML = '';
      $('train-status').textContent = `${m.train} training examples, ${m.dev} dev, labels ${m.labels.join(', ')}: ${m.steps} steps`;
      break;
    case 'step':
      losses.push(m.loss);
      $('progress-bar').style.width = `${(100 * m.step) / m.steps}%`;
      $('train-status').textContent = `step ${m.step}/${m.steps}, epoch ${m.epoch.toFixed(2)}, loss ${m.loss.toFixed(4)}, ${(m.step / m.seconds).toFixed(1)} steps/s, ETA ${eta(m.seconds, m.step, m.steps)}`;
      drawCurve();
      break;
    case 'eval': {
      const li = document.createElement('li');
      li.textContent = `epoch ${m.epoch}: dev accuracy ${(100 * m.accuracy).toFixed(1)}%`;
      $('evals').append(li);
      break;
    }
    case 'done':
      setBusy(false);
      $('train-status').textContent = `${m.stopped ? 'stopped' : 'done'} after ${m.steps} steps in ${m.seconds.toFixed(1)} s`;
      $<HTMLButtonElement>('classify').disabled = m.steps === 0;
      $<HTMLButtonElement>('download').disabled = m.steps === 0;
      document.body.dataset.losses = JSON.stringify(m.losses);
      document.body.dataset.trained = String(m.steps);
      break;
    case 'classified':
      $('classify-out').innerHTML = m.results
        .map((r) => `<p>${r.map((s) => `<span class="score" style="width:${(60 * s.score).toFixed(0)}px"></span>${s.label} ${(100 * s.score).toFixed(1)}%`).join('<br>')}</p>`)
        .join('');
      document.body.dataset.predictions = JSON.stringify(m.results.map((r) => r[0]!));
      break;
    case 'filled':
      $('fill-out').innerHTML = m.results.map((r) => `<li><b>${r.token}</b> ${(100 * r.score).toFixed(1)}%: ${r.sequence}</li>`).join('');
      break;
    case 'zip': {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([m.bytes], { type: 'application/zip' }));
      a.download = m.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      break;
    }
    case 'error':
      setBusy(false);
      $<HTMLButtonElement>('train').disabled = false;
      showError(m.text);
      break;
  }
};
worker.onerror = (e) => showError(`the worker failed: ${e.message}`);

const onFiles = (id: string): void => {
  const input = $<HTMLInputElement>(id);
  input.onchange = () => void openFiles(input.files ?? []).catch((err: Error) => showError(err.message));
};
onFiles('model-folder');
onFiles('model-files');
$('served-model').onclick = () => void openServedModel().catch((err: Error) => showError(`cannot open the served model: ${err.message}`));
void fetch('served-model/index.json', { method: 'HEAD' }).then((r) => ($('served-model').hidden = !r.ok));

$('train').onclick = async () => {
  $('error').hidden = true;
  try {
    const train = await textOf('train-text', 'train-file');
    const dev = await textOf('dev-text', 'dev-file');
    if (train.text.trim() === '') throw new Error('give a training set: paste text<TAB>label lines or choose a file');
    setBusy(true);
    send({ type: 'train', train: train.text, dev: dev.text, settings: settings() });
  } catch (err) {
    showError((err as Error).message);
  }
};
$('stop').onclick = () => send({ type: 'stop' });
$('classify').onclick = () => {
  $('error').hidden = true;
  const texts = $<HTMLTextAreaElement>('classify-text').value.split('\n').filter((t) => t.trim() !== '');
  if (texts.length > 0) send({ type: 'classify', texts });
};
$('fill').onclick = () => {
  $('error').hidden = true;
  send({ type: 'fill-mask', text: $<HTMLInputElement>('fill-text').value });
};
$('download').onclick = () => {
  $('error').hidden = true;
  send({ type: 'download' });
};
