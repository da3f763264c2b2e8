// Inference throughput: sequences/s at batch 1 and 32 x seq 128 for mini and base (random weights), for
// the unfused graph, the fused com.microsoft graph and int8, each against a plain MatMul ceiling measured
// in the same run; and `bert embed` end to end on 1,000 lines of WikiText-2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/checkpoint/folder.ts';
import { bertParameterShapes } from '../src/checkpoint/keys.ts';
import { Graph } from '../src/graph/graph.ts';
import * as op from '../src/graph/ops.ts';
import { compileInference, type GraphOptions } from '../src/inference/graph.ts';
import { loadInferenceModel } from '../src/inference/pipeline.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { CompiledGraph, type HostTensor } from '../src/runtime/session.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const S = 128;

/** A plain (2048 x 768) @ (768 x 3072) MatMul, as bench/engine.bench.ts measures the ceiling. */
const CEILING_FLOPS = 2 * 2048 * 768 * 3072;
const CEILING_FEEDS: Record<string, HostTensor> = {
  a: { dtype: 'float32', shape: [2048, 768], data: new Float32Array(2048 * 768).fill(0.5) },
  b: { dtype: 'float32', shape: [768, 3072], data: new Float32Array(768 * 3072).fill(0.25) },
};

function matmulCeiling(): Promise<CompiledGraph> {
  const g = new Graph();
  return CompiledGraph.compile({ y: op.matmul(g.input('a', 'float32', [2048, 768]), g.input('b', 'float32', [768, 3072])) });
}

/** Model FLOPs of one forward through the encoder: dense layers plus the two attention matmuls. */
function forwardFlops(L: number, H: number, I: number, batch: number, seq: number): number {
  const n = batch * seq;
  return L * (2 * n * (4 * H * H + 2 * H * I) + 4 * batch * seq * seq * H);
}

function feeds(B: number, vocab: number): Record<string, HostTensor> {
  const ids = new BigInt64Array(B * S).map((_, i) => BigInt((i * 7919) % vocab));
  const t = (data: BigInt64Array): HostTensor => ({ dtype: 'int64', shape: [B, S], data });
  return { input_ids: t(ids), token_type_ids: t(new BigInt64Array(B * S)), attention_mask: t(new BigInt64Array(B * S).fill(1n)) };
}

const VARIANTS: Record<string, GraphOptions> = { unfused: { fused: false }, fused: { fused: true }, int8: { fused: true, quantize: 'int8' } };

/**
 * The three variants and the MatMul ceiling timed in interleaved rounds (ceiling, unfused, fused, int8,
 * ceiling, ...): on a shared 2-core machine the load changes by the minute, and interleaving makes the
 * ratios compare runs made under the same load. Medians over the rounds.
 */
async function throughput(preset: PresetName, ceiling: CompiledGraph) {
  const config = makeConfig(preset);
  const weights = initParams(bertParameterShapes(config, 'none'), config, 1);
  const result: Record<string, unknown> = { shape: `L${config.num_hidden_layers}/H${config.hidden_size}/A${config.num_attention_heads}` };
  const graphs = new Map<string, CompiledGraph>();
  for (const [name, opts] of Object.entries(VARIANTS)) {
    graphs.set(name, await compileInference(config, weights, { kind: 'states', layers: [config.num_hidden_layers], pooler: false }, opts));
  }
  for (const B of [1, 32]) {
    const f = feeds(B, config.vocab_size);
    const rounds = preset === 'base' && B === 32 ? 3 : 7;
    const times = new Map<string, number[]>([['ceiling', []], ...[...graphs.keys()].map((k): [string, number[]] => [k, []])]);
    for (const g of graphs.values()) await g.run(f); // warm-up
    await ceiling.run(CEILING_FEEDS);
    for (let r = 0; r < rounds; r++) {
      times.get('ceiling')!.push(await timeOnce(() => ceiling.run(CEILING_FEEDS)));
      for (const [name, g] of graphs) times.get(name)!.push(await timeOnce(() => g.run(f)));
    }
    const med = (k: string) => times.get(k)!.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
    const ceilingGflops = CEILING_FLOPS / med('ceiling') / 1e9;
    const flops = forwardFlops(config.num_hidden_layers, config.hidden_size, config.intermediate_size, B, S);
    const row: Record<string, unknown> = { rounds, matmul_ceiling_gflops: +ceilingGflops.toFixed(1) };
    for (const name of graphs.keys()) {
      const gflops = flops / med(name) / 1e9;
      row[name] = { sequences_per_second: +(B / med(name)).toFixed(2), gflops: +gflops.toFixed(1), ratio_to_matmul_ceiling: +(gflops / ceilingGflops).toFixed(3) };
    }
    row.fused_over_unfused = +(med('unfused') / med('fused')).toFixed(2);
    row.int8_over_fused = +(med('fused') / med('int8')).toFixed(2);
    result[`batch${B}_seq${S}`] = row;
  }
  for (const g of graphs.values()) await g.dispose();
  return result;
}

async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** `bert embed` on the first 1,000 non-empty lines of WikiText-2 test, random mini model, bert-base-uncased vocab. */
export async function endToEnd(): Promise<Record<string, unknown>> {
  const text = sharedData('wikitext-2/wiki.test.raw');
  const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
  if (!text || !vocab) return { skipped: 'shared data missing' };
  const lines = readFileSync(text, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0).slice(0, 1000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-embed-'));
  try {
    const config = makeConfig('mini', { architectures: ['BertModel'] });
    saveCheckpoint(dir, config, initParams(bertParameterShapes(config, 'none'), config, 1));
    BertTokenizer.fromVocabFile(vocab, { lowercase: true }).save(dir);
    const out: Record<string, unknown> = { lines: lines.length, model: 'mini (random)', pooling: 'mean' };
    const embeddings: Record<string, number[][]> = {};
    for (const [name, opts] of Object.entries({ fused: { fused: true }, int8: { fused: true, quantize: 'int8' as const } })) {
      const t0 = performance.now();
      const model = await loadInferenceModel(dir, { ...opts, log: () => {} });
      const tokens = lines.reduce((a, l) => a + model.tokenize(l).input_ids.length, 0);
      embeddings[name] = await model.embed(lines, { pooling: 'mean' });
      await model.dispose();
      const seconds = (performance.now() - t0) / 1000;
      out[`library_${name}`] = { seconds: +seconds.toFixed(2), lines_per_second: +(lines.length / seconds).toFixed(1), tokens };
    }
    const cos = embeddings.fused!.map((a, i) => {
      const b = embeddings.int8![i]!;
      const dot = a.reduce((s, x, h) => s + x * b[h]!, 0);
      return dot / Math.hypot(...a) / Math.hypot(...b);
    });
    out.int8_cosine_to_fp32 = { min: +Math.min(...cos).toFixed(5), mean: +(cos.reduce((s, c) => s + c, 0) / cos.length).toFixed(5) };
    // The CLI as a user runs it (from source through tsx: includes the TypeScript loader's start-up).
    const t0 = performance.now();
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/bert-cli.ts', 'embed', '--model', dir, '--pooling', 'mean', '-'], {
      input: `${lines.join('\n')}\n`,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      cwd: new URL('..', import.meta.url).pathname,
    });
    const seconds = (performance.now() - t0) / 1000;
    out.cli_fused = { seconds: +seconds.toFixed(2), exit: cli.status, output_lines: cli.stdout.split('\n').filter(Boolean).length };
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const ceiling = await matmulCeiling();
  const result: Record<string, unknown> = { threads: cpus().length, seq: S };
  for (const preset of ['mini', 'base'] as const) result[preset] = await throughput(preset, ceiling);
  await ceiling.dispose();
  result.embed_wikitext_1000 = await endToEnd();
  return result;
}
