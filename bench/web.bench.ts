// Browser vs Node on one machine: the same fine-tuning step and classifier forward pass (bench/web-measure.ts,
// BERT-mini, batch 8 x 128) in headless chromium on onnxruntime-web (WASM, the threads the page gets)
// and in Node on onnxruntime-node (the same thread count, and all cores). Skipped without chromium.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium } from '../test/helpers/chromium.ts';
import { bundleForBrowser } from '../web/build.ts';
import { serveWeb } from '../web/serve.ts';
import { measureWeb, WEB_BENCH_CASE } from './web-measure.ts';

const here = dirname(fileURLToPath(import.meta.url));

async function inChromium(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bert-web-bench-'));
  await bundleForBrowser({ 'bench-worker': join(here, 'web-worker.ts') }, dir);
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script type="module">
const w = new Worker('bench-worker.js', { type: 'module' });
w.onmessage = (e) => { document.body.dataset.result = JSON.stringify(e.data); };
</script>`);
  const server = await serveWeb(dir);
  const browser = await launchChromium();
  try {
    await browser.page.goto(server.url);
    await browser.page.waitForFunction('document.body.dataset.result !== undefined', null, { timeout: 600_000 });
    const r = JSON.parse((await browser.page.getAttribute('body', 'data-result'))!) as Record<string, number> & { error?: string };
    if (r.error) throw new Error(`browser bench failed: ${r.error}\n${browser.log.join('\n')}`);
    return r;
  } finally {
    await browser.close();
    await server.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const missing = chromiumMissing();
  if (missing) return { skipped: missing };
  const browser = await inChromium();
  const nodeSame = await measureWeb(WEB_BENCH_CASE, browser.threads);
  const nodeAll = await measureWeb(WEB_BENCH_CASE, availableParallelism());
  const ratio = (a: number, b: number): number => +(a / b).toFixed(3);
  return {
    case: WEB_BENCH_CASE,
    chromium_wasm: browser,
    node_same_threads: { threads: browser.threads, ...nodeSame },
    node_all_cores: { threads: availableParallelism(), ...nodeAll },
    browser_over_node_train: ratio(browser.train_steps_per_second!, nodeSame.train_steps_per_second!),
    browser_over_node_inference: ratio(browser.inference_sequences_per_second!, nodeSame.inference_sequences_per_second!),
  };
}
