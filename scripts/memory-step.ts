// Peak RSS of a base-shaped training step under ORT memory settings.
// Usage: node --import tsx scripts/memory-step.ts <preset> <batch> <memPattern:0|1> <arena:0|1>
import type { PresetName } from '../src/model/config.ts';
import { encoderStep, syntheticBatch } from '../bench/encoder-step.ts';
import { peakRssMb } from '../bench/peak-rss.ts';

const [preset = 'base', b = '32', pattern = '1', arena = '1'] = process.argv.slice(2);
const B = Number(b);
const S = 128;
const { config, step, params } = await encoderStep(preset as PresetName, { memoryPattern: pattern === '1', cpuArena: arena === '1' });
const feeds = syntheticBatch(config.vocab_size, B, S);
const times: number[] = [];
for (let i = 0; i < 2; i++) {
  const t = performance.now();
  await step.run(feeds, params, i);
  times.push((performance.now() - t) / 1000);
}
console.log(JSON.stringify({ preset, batch: B, memoryPattern: pattern, arena, step_seconds: times.map((t) => +t.toFixed(2)), vm_hwm_mb: peakRssMb() }));
