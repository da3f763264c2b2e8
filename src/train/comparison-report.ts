// What a comparison leaves behind: comparison.json for other tools, three charts (every seed's test
// score per arm, both arms' dev curves over fine-tuning steps, the low-resource curve) and the lines
// printed at the end of a run.
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import { ARM_NAMES, ARMS, type ComparisonResult } from './comparison.ts';
import { barChartSvg, lineChartSvg, type LineSeries } from './plot.ts';

const ARM_COLORS = { pretrained: '#4e79a7', random: '#f28e2b' } as const;
const BASELINE_COLORS = ['#59a14f', '#bab0ac', '#b07aa1'];

export interface ComparisonFiles {
  json: string;
  /** Every seed's test score and the means, both arms, baselines beside the means. */
  bars: string;
  /** Dev score over fine-tuning steps, every seed of both arms. */
  curves: string;
  /** Mean test score against labeled-set size, both arms and the baselines. */
  lowResource: string;
}

/**
 * The three charts as SVG documents; `clipPrefix` gives the line charts their own clip ids when several
 * share an HTML page, and `frame` their size.
 */
export function comparisonCharts(result: ComparisonResult, title: string, clipPrefix?: string, frame: { width?: number; height?: number } = {}): { bars: string; curves: string; lowResource: string } {
  const m = result.metric;
  const seeds = result.seeds.map((s) => `seed ${s}`);
  const baselineNames = Object.keys(result.baselines);
  const bars = barChartSvg(
    {
      categories: [...seeds, 'mean'],
      series: [
        ...ARMS.map((arm) => ({ name: `${ARM_NAMES[arm]} (lr ${result[arm].lr})`, values: [...result[arm].scores, result[arm].mean], color: ARM_COLORS[arm] })),
        ...baselineNames.map((name, k) => ({ name, values: [...seeds.map(() => NaN), result.baselines[name]!], color: BASELINE_COLORS[k % BASELINE_COLORS.length] })),
      ],
    },
    { title: `${title}: test ${m}, ${result.examples} labeled examples`, yLabel: `test ${m}`, ...frame },
  );
  const curveSeries: LineSeries[] = ARMS.flatMap((arm) =>
    result[arm].curves.map((c, i) => ({ name: `${ARM_NAMES[arm]} seed ${c.seed}`, x: c.steps, y: c.scores, color: ARM_COLORS[arm], dashed: i % 2 === 1 })),
  );
  const clip = (name: string) => ({ ...frame, ...(clipPrefix === undefined ? {} : { clipId: `${clipPrefix}-${name}` }) });
  const curves = lineChartSvg(curveSeries, { title: `${title}: dev ${m} while training (${result.examples} labeled examples)`, xLabel: 'training step', yLabel: `dev ${m}`, ...clip('curves') });
  const sizes = result.sizes.map((s) => s.examples);
  const low: LineSeries[] = [
    ...ARMS.map((arm) => ({ name: `${ARM_NAMES[arm]} (mean over seeds)`, x: sizes, y: result.sizes.map((s) => s[arm].mean), color: ARM_COLORS[arm] })),
    ...baselineNames.map((name, k) => ({ name, x: sizes, y: result.sizes.map((s) => s.baselines[name] ?? NaN), color: BASELINE_COLORS[k % BASELINE_COLORS.length], dashed: true })),
  ];
  const lowResource = lineChartSvg(low, { title: `${title}: test ${m} against labeled examples`, xLabel: 'labeled training examples', yLabel: `test ${m}`, ...clip('low-resource') });
  return { bars, curves, lowResource };
}

/** Writes comparison.json and the three charts into `dir` under `prefix` (e.g. "finetune-"). */
export function writeComparison(result: ComparisonResult, dir: string, opts: { title: string; prefix?: string; json?: string }): ComparisonFiles {
  const p = opts.prefix ?? 'finetune-';
  const files: ComparisonFiles = {
    json: join(dir, opts.json ?? 'comparison.json'),
    bars: join(dir, `${p}comparison.svg`),
    curves: join(dir, `${p}dev-curves.svg`),
    lowResource: join(dir, `${p}low-resource.svg`),
  };
  writeFileAtomic(files.json, `${JSON.stringify(result, null, 2)}\n`);
  const charts = comparisonCharts(result, opts.title);
  writeFileAtomic(files.bars, charts.bars);
  writeFileAtomic(files.curves, charts.curves);
  writeFileAtomic(files.lowResource, charts.lowResource);
  return files;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}`;

/** The lines a run prints at its end: every seed per arm, mean +- std, the gap, the baselines and the curve. */
export function comparisonLines(result: ComparisonResult, title: string): string[] {
  const m = result.metric;
  const lines = [`${title}: test ${m} (%), ${result.examples} labeled examples, ${result.test_examples} test examples, seeds ${result.seeds.join(', ')}`];
  for (const arm of ARMS) {
    const a = result[arm];
    lines.push(`  ${ARM_NAMES[arm].padEnd(12)} ${pct(a.mean)} +- ${pct(a.std)}   seeds: ${a.scores.map(pct).join(', ')}   (lr ${a.lr})`);
  }
  for (const [name, v] of Object.entries(result.baselines)) lines.push(`  ${name.padEnd(12)} ${pct(v)}`);
  const gap = result.pretrained.mean - result.random.mean;
  lines.push(`  pre-training ${gap >= 0 ? 'adds' : 'costs'} ${pct(Math.abs(gap))} points (seed spread ${pct(Math.max(result.pretrained.std, result.random.std))})`);
  if (result.sizes.length > 1) {
    lines.push(`  by labeled examples: ${result.sizes.map((s) => `${s.examples}: ${pct(s.pretrained.mean)} vs ${pct(s.random.mean)}`).join('; ')}`);
  }
  return lines;
}
