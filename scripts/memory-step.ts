// Peak RSS of a base-shaped training step under ORT memory settings.
// Usage: node --import tsx scripts/memory-step.ts <preset> <batch> <memPattern:0|1> <arena:0|1>
import { readFileSync } from 'node:fs';
import * as op from '../src/graph/ops.ts';
import { bertInputs, bertModel, newContext } from '../src/model/bert.ts';
import { makeConfig, type PresetName } from '../src/model/config.ts';
import { initParams } from '../src/model/init.ts';
import { TrainStep } from '../src/train/step.ts';

const [preset = 'base', b = '32', pattern = '1', arena = '1'] = process.argv.slice(2);
const B = Number(b);
const S = 128;
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
const config = makeConfig(preset as PresetName);
const ctx = newContext(config, { training: true });
const out = bertModel(ctx, bertInputs(ctx));
const loss = op.reduceMean(op.mul(out.last_hidden_state, out.last_hidden_state), [0, 1], false);
const step = await TrainStep.compile({ ctx, loss, outputs: {} }, { seed: 1, memoryPattern: pattern === '1', cpuArena: arena === '1' });
const params = initParams(new Map([...ctx.params].map(([k, v]) => [k, v.shape as number[]])), config, 1);
const feeds = {
  input_ids: { dtype: 'int64' as const, shape: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i % 1000)) },
  token_type_ids: { dtype: 'int64' as const, shape: [B, S], data: new BigInt64Array(B * S) },
  attention_mask: { dtype: 'int64' as const, shape: [B, S], data: new BigInt64Array(B * S).fill(1n) },
};
const times: number[] = [];
for (let i = 0; i < 2; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  times.push((performance.now() - t) / 1000);
}
clearInterval(timer);
// the kernel's high-water mark: ORT runs block the sampling timer, so sampling alone misses peaks inside a run
const hwm = Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024);
console.log(JSON.stringify({ preset, batch: B, memoryPattern: pattern, arena, step_seconds: times.map((t) => +t.toFixed(2)), sampled_peak_rss_mb: Math.round(peak / 2 ** 20), vm_hwm_mb: hwm }));
