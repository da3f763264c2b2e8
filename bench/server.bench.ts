// bert serve under load, on loopback: a mini BERT (L=4, H=256, random weights) behind `bert serve`
// in its own process, POST /embed with real sentences (SST-2 dev; synthetic ones without
// ../shared/data), autocannon at concurrency 1, 8 and 64; then a soak at concurrency 16 with the
// server's RSS sampled once a second.
//
// SERVER_BENCH_SECONDS (default 10) is each load level's duration, SERVER_SOAK_SECONDS (default 120)
// the soak's. The first 20% of the soak is warm-up; growth is the largest RSS after it over the RSS at
// its end.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/checkpoint/folder.ts';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { makeConfig } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { readVocabFile } from '../src/tokenizer/vocab.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const CLI = new URL('../test/helpers/bert-cli.ts', import.meta.url).pathname;
const LEVELS = [1, 8, 64];

/** A mini BertModel with random weights and the uncased vocabulary (or a synthetic one) in a temp folder. */
function miniFolder(): { dir: string; sentences: string[]; source: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bert-serve-bench-'));
  const vocabPath = sharedData('vocab/bert-base-uncased/vocab.txt');
  const sst = sharedData('glue/SST-2/dev.tsv');
  let vocab: string[];
  let sentences: string[];
  let source: string;
  if (vocabPath !== undefined && sst !== undefined) {
    vocab = readVocabFile(vocabPath);
    sentences = readFileSync(sst, 'utf8').split('\n').slice(1).map((l) => l.split('\t')[0]!).filter((s) => s.trim() !== '').slice(0, 200);
    source = 'SST-2 dev sentences, bert-base-uncased vocab';
  } else {
    vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 995 }, (_, i) => `w${i + 5}`)];
    sentences = Array.from({ length: 200 }, (_, i) => Array.from({ length: 5 + (i % 40) }, (_, j) => `w${5 + ((i * 7 + j * 13) % 995)}`).join(' '));
    source = 'synthetic sentences of 5-44 words (no ../shared/data)';
  }
  const config = makeConfig('mini', { vocab_size: vocab.length, architectures: ['BertModel'] });
  saveCheckpoint(dir, config, initParams(bertParameterShapes(config, 'none'), config, 1));
  new BertTokenizer(vocab, true).save(dir);
  return { dir, sentences, source };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--model', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`bert serve exited ${code}: ${out}`)));
  });
}

async function load(url: string, bodies: string[], connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/embed`,
    connections,
    duration: seconds,
    // One body per request, cycling through the sentences.
    requests: bodies.map((body) => ({ method: 'POST', path: '/embed', headers: { 'content-type': 'application/json' }, body })),
  });
}

function summary(r: autocannon.Result): Record<string, number> {
  return {
    requests: r.requests.total,
    requests_per_s: +r.requests.average.toFixed(1),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

function batchStats(metrics: string): { calls: number; inputs: number } {
  const count = Number(/^bert_batch_size_count\{op="embed"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  const sum = Number(/^bert_batch_size_sum\{op="embed"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  return { calls: count, inputs: sum };
}

export async function run(): Promise<Record<string, unknown>> {
  const levelSeconds = Number(process.env.SERVER_BENCH_SECONDS ?? 10);
  const soakSeconds = Number(process.env.SERVER_SOAK_SECONDS ?? 120);
  const { dir, sentences, source } = miniFolder();
  const bodies = sentences.map((s) => JSON.stringify({ inputs: s }));
  const { child, url } = await startServer(dir);
  const result: Record<string, unknown> = { model: 'mini (L=4, H=256, A=4), random weights, fp32, fused', inputs: source, route: 'POST /embed, one sentence a request' };
  try {
    await load(url, bodies, 8, 2); // warm the graph and the JIT
    for (const c of LEVELS) {
      const before = batchStats(await (await fetch(`${url}/metrics`)).text());
      const r = await load(url, bodies, c, levelSeconds);
      const after = batchStats(await (await fetch(`${url}/metrics`)).text());
      const calls = after.calls - before.calls;
      result[`concurrency_${c}`] = { ...summary(r), mean_batch_size: calls > 0 ? +((after.inputs - before.inputs) / calls).toFixed(2) : 0 };
      process.stderr.write(`server bench: concurrency ${c}: ${JSON.stringify(result[`concurrency_${c}`])}\n`);
    }

    const samples: Array<[number, number]> = [];
    const t0 = performance.now();
    const timer = setInterval(() => samples.push([(performance.now() - t0) / 1000, rssMb(child.pid!)]), 1000);
    const soak = await load(url, bodies, 16, soakSeconds);
    clearInterval(timer);
    const warmupEnd = soakSeconds * 0.2;
    const warm = samples.filter(([t]) => t <= warmupEnd).at(-1)?.[1] ?? samples[0]![1];
    const afterWarm = samples.filter(([t]) => t > warmupEnd).map(([, mb]) => mb);
    const peak = Math.max(...afterWarm);
    result.soak = {
      seconds: soakSeconds,
      concurrency: 16,
      ...summary(soak),
      rss_mb_at_warmup_end: +warm.toFixed(1),
      rss_mb_peak_after_warmup: +peak.toFixed(1),
      rss_mb_final: +(afterWarm.at(-1) ?? NaN).toFixed(1),
      rss_growth_pct: +((100 * (peak - warm)) / warm).toFixed(2),
      rss_samples_mb: samples.filter((_, i) => i % 10 === 0).map(([, mb]) => +mb.toFixed(1)),
    };
    process.stderr.write(`server bench: soak: ${JSON.stringify(result.soak)}\n`);
  } finally {
    child.kill('SIGTERM');
    result.exit_code_after_sigterm = await new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
