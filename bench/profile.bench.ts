// Where a pre-training step's time goes (mini, batch 32 x 128): ORT's profiler per op type, and the
// host-side phases of the loop around the graph run. See bench/profile-child.ts.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function run(): Promise<Record<string, unknown>> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'profile-child.ts'), 'mini', '32', '128', '4'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`profile-child failed: ${child.stderr}`);
  return { pretrain_mini: JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown> };
}
