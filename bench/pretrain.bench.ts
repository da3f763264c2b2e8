// Pre-training throughput (the whole loop, optimizer included) for mini and base at batch 32 x seq
// 128; base by 4 micro-batches of 8, summed in the graph (and, for comparison, on the host). GFLOP/s
// over a MatMul ceiling measured in the same process, and tokens/s over one micro-batch's engine step
// alone (loop_over_engine: what the host work costs, or at base what summing in the graph saves);
// beside each, PyTorch eager on the same step (bench/pytorch_reference.py) where torch is installed.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAINING_MALLOC } from '../src/cli/respawn.ts';
import { makeConfig } from '../src/model/config.ts';
import { runChild } from './child.ts';
import { encoderForwardFlops } from './engine.bench.ts';
import { pytorchReference } from './pytorch-reference.ts';

const here = dirname(fileURLToPath(import.meta.url));
const B = 32;
const S = 128;
const P = 20;

/** Forward FLOPs of BertForPreTraining per batch: the encoder plus the MLM head at the masked positions. */
function preTrainingForwardFlops(preset: 'mini' | 'base'): number {
  const c = makeConfig(preset);
  const masked = B * P;
  return encoderForwardFlops(c.num_hidden_layers, c.hidden_size, c.intermediate_size, B, S) + 2 * masked * (c.hidden_size * c.hidden_size + c.hidden_size * c.vocab_size);
}

// The malloc setting `bert pretrain` runs with on Linux (src/cli/respawn.ts says why); read only as a
// process starts, so the runs that measure it are children given it in their environment.
export const GLIBC_TRAINING_MALLOC = { GLIBC_TUNABLES: TRAINING_MALLOC };

function measure(preset: 'mini' | 'base', gradAccum: number, steps: number, extraEnv: Record<string, string> = {}): Record<string, unknown> {
  const args = [preset, String(B), String(S), String(gradAccum), String(steps)];
  const r = runChild<{ tokens_per_second: number; engine_tokens_per_second: number; matmul_ceiling_gflops: [number, number]; peak_rss_mb: number }>(join(here, 'pretrain-child.ts'), args, extraEnv);
  const gflops = (3 * preTrainingForwardFlops(preset) * (r.tokens_per_second / (B * S))) / 1e9;
  // noise on a shared machine only ever lowers a measurement: the higher of the two is the ceiling
  const ceiling = Math.max(...r.matmul_ceiling_gflops);
  return {
    batch: B,
    seq: S,
    grad_accum: gradAccum,
    tokens_per_second: Math.round(r.tokens_per_second),
    // the same pre-training graph's forward + backward alone, measured in the same process right after
    engine_tokens_per_second: Math.round(r.engine_tokens_per_second),
    loop_over_engine: +(r.tokens_per_second / r.engine_tokens_per_second).toFixed(3),
    achieved_gflops: +gflops.toFixed(1),
    matmul_ceiling_gflops: r.matmul_ceiling_gflops.map((x) => +x.toFixed(1)),
    ratio_to_matmul_ceiling: +(gflops / ceiling).toFixed(3),
    peak_rss_mb: r.peak_rss_mb,
  };
}

/** Ours, then PyTorch eager on the same step right after (where a python3 with torch is found), both with `extraEnv`. */
function sideBySide(preset: 'mini' | 'base', gradAccum: number, steps: number, extraEnv: Record<string, string> = {}): Record<string, unknown> {
  const ours = measure(preset, gradAccum, steps, extraEnv);
  const torch = pytorchReference(preset, B, S, gradAccum, steps, extraEnv);
  if ('skipped' in torch) {
    process.stderr.write(`bench: ${torch.skipped}\n`);
    return { ...ours, pytorch: torch };
  }
  const over = (ours.tokens_per_second as number) / torch.tokens_per_second;
  return { ...ours, pytorch: { ...torch, tokens_per_second: Math.round(torch.tokens_per_second) }, over_pytorch: +over.toFixed(2) };
}

/** As it is, then (on Linux) again with the malloc setting `bert pretrain` runs with, both sides. */
function withAndWithoutGlibcTuning(preset: 'mini' | 'base', gradAccum: number, steps: number): Record<string, unknown> {
  const plain = sideBySide(preset, gradAccum, steps);
  if (process.platform !== 'linux') return plain;
  const tuned = sideBySide(preset, gradAccum, steps, GLIBC_TRAINING_MALLOC);
  const over = (tuned.tokens_per_second as number) / (plain.tokens_per_second as number);
  return { ...plain, glibc_keep_freed: { env: GLIBC_TRAINING_MALLOC, ...tuned, over_plain: +over.toFixed(2) } };
}

/**
 * Base's 4 micro-batches summed on the host (one ORT run each) against in the graph (one run), with
 * the malloc setting, alternating in one process (bench/accumulate-child.ts): the loop measurements
 * above vary more between runs than this difference.
 */
function hostAgainstGraph(rounds: number): Record<string, unknown> {
  return runChild(join(here, 'accumulate-child.ts'), ['base', String(B / 4), String(S), '4', String(rounds)], process.platform === 'linux' ? GLIBC_TRAINING_MALLOC : {});
}

export async function run(): Promise<Record<string, unknown>> {
  return {
    pretrain_mini: withAndWithoutGlibcTuning('mini', 1, 6),
    pretrain_base: withAndWithoutGlibcTuning('base', 4, 3),
    pretrain_base_accumulation: hostAgainstGraph(6),
  };
}
