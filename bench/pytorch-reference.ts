// The optional PyTorch eager side of `npm run bench`: finds a python3 with torch and runs
// bench/pytorch_reference.py (the same pre-training step) in it. Never needed by tests or CI; where
// no torch is found the benchmark says so and skips it.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The first of `python3`, `/usr/bin/python3` that imports torch, or undefined. */
export function pythonWithTorch(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/** What bench/pytorch_reference.py prints. */
interface TorchRun {
  tokens_per_second: number;
  torch: string;
  threads: number;
  matmul_gflops: number;
}

export type ReferenceResult = (TorchRun & { unset_env: string[] }) | { skipped: string };

// OpenBLAS tuning variables this machine's environment sets (OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE)
// made torch's MatMul 2.3x slower here (103 against 237 GFLOP/s at two threads): the reference runs
// with OpenBLAS choosing for itself, so the comparison is against PyTorch at its best.
const OPENBLAS_OVERRIDES = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/** PyTorch's tokens/s for `preset` at `batch` x `seq` by `gradAccum` micro-batches, on every core (`extraEnv` added to its environment). */
export function pytorchReference(preset: string, batch: number, seq: number, gradAccum: number, steps: number, extraEnv: Record<string, string> = {}): ReferenceResult {
  const python = pythonWithTorch();
  if (!python) return { skipped: "no python3 with torch (tried `python3`, `/usr/bin/python3`): the PyTorch side-by-side run is skipped" };
  const args = [join(here, 'pytorch_reference.py'), preset, String(batch), String(seq), String(gradAccum), String(steps), String(cpus().length)];
  const unset = OPENBLAS_OVERRIDES.filter((k) => process.env[k] !== undefined);
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.includes(k))), ...extraEnv };
  const child = spawnSync(python, args, { encoding: 'utf8', env });
  if (child.status !== 0) return { skipped: `${python} ${args.join(' ')} failed: ${child.stderr.trim().split('\n').at(-1)}` };
  const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as TorchRun;
  return { ...r, unset_env: unset };
}
