// Where a training step's time goes: runs a few encoder-stack steps with ORT profiling on and prints
// the time per op type. Usage: node --import tsx scripts/profile-step.ts [mini|base] [batch]
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { PresetName } from '../src/model/config.ts';
import { encoderStep, syntheticBatch } from '../bench/encoder-step.ts';

const preset = (process.argv[2] ?? 'mini') as PresetName;
const B = Number(process.argv[3] ?? 32);
const S = 128;
const prefix = `/tmp/bert-profile-${process.pid}`;
const { config, step, params } = await encoderStep(preset, { profilePrefix: prefix });
const feeds = syntheticBatch(config.vocab_size, B, S);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  console.log(`step ${i}: ${((performance.now() - t) / 1000).toFixed(3)} s`);
}
step.endProfiling();
const file = readdirSync('/tmp').find((f) => f.startsWith(`bert-profile-${process.pid}`))!;
const events = JSON.parse(readFileSync(`/tmp/${file}`, 'utf8')) as Array<{ cat: string; name: string; dur: number; args?: { op_name?: string } }>;
rmSync(`/tmp/${file}`);
const byOp = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const k = e.args?.op_name ?? '?';
  byOp.set(k, (byOp.get(k) ?? 0) + e.dur);
  total += e.dur;
}
const rows = [...byOp].sort((a, b) => b[1] - a[1]);
for (const [k, us] of rows) console.log(`${k.padEnd(28)} ${(us / 3e6).toFixed(3)} s/step  ${((100 * us) / total).toFixed(1)}%`);
