// Where a training step's time goes: runs a few encoder-stack steps with ORT profiling on and prints
// the time per op type. Usage: node --import tsx scripts/profile-step.ts [mini|base] [batch]
import { readFileSync, rmSync } from 'node:fs';
import * as op from '../src/graph/ops.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { TrainStep } from '../src/train/step.ts';

const preset = (process.argv[2] ?? 'mini') as PresetName;
const B = Number(process.argv[3] ?? 32);
const S = 128;
const config = makeConfig(preset);
const ctx = newContext(config, { training: true });
const out = bertModel(ctx, bertInputs(ctx));
const loss = op.reduceMean(op.mul(out.last_hidden_state, out.last_hidden_state), [0, 1], false);
const prefix = `/tmp/bert-profile-${process.pid}`;
const step = await TrainStep.compile({ ctx, loss, outputs: {} }, { seed: 1, profilePrefix: prefix });
const params = initParams(new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]])), config, 1);
const ids = BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 7919) % config.vocab_size));
const feeds = {
  input_ids: { dtype: 'int64' as const, shape: [B, S], data: ids },
  token_type_ids: { dtype: 'int64' as const, shape: [B, S], data: new BigInt64Array(B * S) },
  attention_mask: { dtype: 'int64' as const, shape: [B, S], data: new BigInt64Array(B * S).fill(1n) },
};
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  console.log(`step ${i}: ${((performance.now() - t) / 1000).toFixed(3)} s`);
}
(step as unknown as { compiled: { endProfiling(): void } }).compiled.endProfiling();
const { readdirSync } = await import('node:fs');
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
