import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { barChartSvg, ema, formatTick, lineChartSvg, niceTicks, writeLossCurveSvg } from '../src/train/plot.ts';
import { writePretrainCurves, type PretrainStepRecord } from '../src/train/pretrain.ts';

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

/** A small well-formedness check: every tag closes in order, attributes are quoted, one root <svg>. */
function parseSvg(svg: string): Element[] {
  const elements: Element[] = [];
  const stack: Element[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg)) !== null) {
    at = re.lastIndex;
    if (m[5] !== undefined) {
      if (stack.length === 0) assert.match(m[5], /^\s*$/, 'text outside the root element');
      assert.doesNotMatch(m[5], /&(?!amp;|lt;|gt;|quot;)/, 'unescaped &');
      if (stack.length) stack[stack.length - 1]!.text += m[5];
      continue;
    }
    const [, close, name = '', attrText = '', selfClose] = m;
    if (close) {
      assert.equal(stack.pop()?.name, name, `</${name}> closes the wrong element`);
      continue;
    }
    if (stack.length === 0) assert.equal(elements.length, 0, 'more than one root element');
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      const key = a[1]!;
      const value = a[2]!;
      assert.equal(attrs[key], undefined, `duplicate attribute ${key}`);
      attrs[key] = value;
    }
    const el = { name, attrs, text: '' };
    elements.push(el);
    if (!selfClose) stack.push(el);
  }
  assert.equal(at, svg.length, `cannot parse from: ${svg.slice(at, at + 40)}`);
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(elements[0]!.name, 'svg');
  return elements;
}

/** The (x, y) points of a path's d attribute. */
function points(d: string | undefined): Array<[number, number]> {
  assert.ok(d !== undefined, 'path without a d attribute');
  return [...d.matchAll(/[ML]([^ ]+) ([^ ML]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

test('line chart: well-formed, one path per series with every point, coordinates inside the plot', () => {
  const steps = Array.from({ length: 50 }, (_, i) => i + 1);
  const svg = lineChartSvg(
    [
      { name: 'loss', x: steps, y: steps.map((s) => 8 / s + 1) },
      { name: 'mlm_loss', x: steps, y: steps.map((s) => 7 / s + 0.5) },
      { name: 'nsp <loss> & co', x: steps.slice(0, 10), y: steps.slice(0, 10).map(() => 0.69) },
    ],
    { title: 'Pre-training', xLabel: 'step', yLabel: 'loss' },
  );
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  const els = parseSvg(svg);
  const paths = els.filter((e) => e.name === 'path' && e.attrs.class === 'series');
  assert.deepEqual(paths.map((p) => p.attrs['data-series']), ['loss', 'mlm_loss', 'nsp &lt;loss&gt; &amp; co']);
  assert.deepEqual(paths.map((p) => points(p.attrs.d).length), [50, 50, 10]);
  const svgEl = els[0]!;
  assert.equal(svgEl.attrs.xmlns, 'http://www.w3.org/2000/svg');
  for (const p of paths) {
    for (const [x, y] of points(p.attrs.d)) {
      assert.ok(x >= 0 && x <= Number(svgEl.attrs.width) && y >= 0 && y <= Number(svgEl.attrs.height), `${x},${y}`);
    }
  }
  // The curve goes down: the first point of 'loss' is above (smaller y) its last.
  const loss = points(paths[0]!.attrs.d);
  assert.ok(loss[0]![1] < loss[loss.length - 1]![1]);
  // x is increasing and evenly spaced for evenly spaced steps.
  const dx = loss.slice(1).map(([x], i) => x - loss[i]![0]);
  assert.ok(Math.max(...dx) - Math.min(...dx) < 0.02);
  const texts = els.filter((e) => e.name === 'text').map((e) => e.text);
  for (const want of ['Pre-training', 'step', 'loss', 'mlm_loss', 'nsp &lt;loss&gt; &amp; co']) assert.ok(texts.includes(want), want);
});

test('line chart: NaN and Infinity break the line instead of reaching the coordinates', () => {
  const svg = lineChartSvg([{ name: 'loss', x: [1, 2, 3, 4, 5], y: [3, NaN, 2, Infinity, 1] }]);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  const d = parseSvg(svg).find((e) => e.attrs.class === 'series')!.attrs.d!;
  assert.equal(points(d).length, 3);
  assert.equal(d.split('M').length - 1, 3); // three pieces: each finite point starts again
});

test('smoothing: debiased EMA drawn over the faint raw series', () => {
  assert.deepEqual(ema([2, 2, 2], 0.9).map((v) => Number(v.toFixed(12))), [2, 2, 2]);
  // w = 0.5, by hand: s = 0.5*0 + 0.5*4 = 2 -> 2/(1-0.5) = 4; s = 0.5*2 + 0.5*0 = 1 -> 1/(1-0.25) = 4/3.
  const s = ema([4, 0], 0.5);
  assert.equal(s[0], 4);
  assert.ok(Math.abs(s[1]! - 4 / 3) < 1e-12);
  const els = parseSvg(lineChartSvg([{ name: 'loss', x: [0, 1, 2, 3], y: [4, 0, 4, 0] }], { smoothing: 0.5 }));
  assert.equal(els.filter((e) => e.attrs.class === 'raw').length, 1);
  assert.equal(points(els.find((e) => e.attrs.class === 'series')!.attrs.d).length, 4);
});

test('long series are thinned to about maxPoints, the last point kept', () => {
  const x = Array.from({ length: 10_000 }, (_, i) => i);
  const els = parseSvg(lineChartSvg([{ name: 'loss', x, y: x.map((i) => 1 / (i + 1)) }], { maxPoints: 500, logY: true }));
  const pts = points(els.find((e) => e.attrs.class === 'series')!.attrs.d);
  assert.equal(pts.length, 501);
});

test('ticks: 1, 2 or 5 times a power of ten, covering the data', () => {
  assert.deepEqual(niceTicks(0, 3000), [0, 500, 1000, 1500, 2000, 2500, 3000]);
  assert.deepEqual(niceTicks(0.23, 0.71), [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
  assert.deepEqual(niceTicks(1.7, 11.3), [0, 2, 4, 6, 8, 10, 12]);
  assert.deepEqual(niceTicks(5, 5).length > 1, true);
  assert.deepEqual([0, 0.25, 12000, 1.5e6, 3e-5].map(formatTick), ['0', '0.25', '12k', '1.5M', '3e-5']);
});

test('bar chart: one bar per run and category, heights proportional to values', () => {
  const els = parseSvg(
    barChartSvg({ categories: ['accuracy', 'F1'], series: [{ name: 'bert-ts', values: [0.9, 0.6] }, { name: 'transformers', values: [0.8, 0.3] }] }),
  );
  const bars = els.filter((e) => e.attrs.class === 'bar');
  assert.deepEqual(bars.map((b) => b.attrs['data-series']), ['bert-ts', 'transformers', 'bert-ts', 'transformers']);
  const h = bars.map((b) => Number(b.attrs.height));
  assert.ok(Math.abs(h[0]! / h[3]! - 3) < 0.01 && Math.abs(h[1]! / h[2]! - 0.8 / 0.6) < 0.01, `${h}`);
});

test('writeLossCurveSvg writes the file atomically (no temp file left)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plot-'));
  try {
    writeLossCurveSvg(join(dir, 'loss.svg'), [{ name: 'loss', x: [1, 2], y: [2, 1] }]);
    assert.deepEqual(readdirSync(dir), ['loss.svg']);
    const els = parseSvg(readFileSync(join(dir, 'loss.svg'), 'utf8'));
    assert.ok(els.some((e) => e.name === 'text' && e.text === 'step'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pre-training curves: losses in loss.svg, accuracies against dashed baselines in accuracy.svg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plot-'));
  try {
    // NSP accuracy climbs from 0.40 to 0.80 across a baseline of 0.55; MLM sits at 0.10
    const history: PretrainStepRecord[] = Array.from({ length: 200 }, (_, i) => ({
      step: i + 1, steps: 200, loss: 7 - i / 100, mlm_loss: 6.3 - i / 100, nsp_loss: 0.7, mlm_accuracy: 0.1,
      nsp_accuracy: 0.4 + (0.4 * i) / 199, lr: 1e-4, grad_norm: 1, tokens_per_second: 1000,
    }));
    const paths = writePretrainCurves(dir, history, { mlm_accuracy: 0.04, nsp_accuracy: 0.55 });
    assert.deepEqual(readdirSync(dir).sort(), ['accuracy.svg', 'loss.svg']);
    const series = (file: string) =>
      new Map(parseSvg(readFileSync(file, 'utf8')).filter((e) => e.attrs.class === 'series').map((e) => [e.attrs['data-series'], e] as const));
    assert.deepEqual([...series(paths.loss).keys()], ['loss', 'mlm_loss', 'nsp_loss']);
    const acc = series(paths.accuracy);
    assert.deepEqual([...acc.keys()], ['mlm_accuracy', 'nsp_accuracy', 'mlm_accuracy baseline', 'nsp_accuracy baseline']);
    const base = points(acc.get('nsp_accuracy baseline')!.attrs.d);
    assert.equal(acc.get('nsp_accuracy baseline')!.attrs['stroke-dasharray'], '6 3');
    assert.equal(base.length, 2);
    assert.ok(Math.abs(base[0]![1] - base[1]![1]) < 0.05, `${base}`);
    // SVG y grows downwards: NSP starts below its baseline and ends above it, MLM stays above its own
    const nsp = points(acc.get('nsp_accuracy')!.attrs.d);
    assert.ok(nsp[0]![1] > base[0]![1] && nsp.at(-1)![1] < base[0]![1]);
    const mlmBase = points(acc.get('mlm_accuracy baseline')!.attrs.d)[0]![1];
    assert.ok(points(acc.get('mlm_accuracy')!.attrs.d).every(([, y]) => y < mlmBase));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The legend's box (the first rect after <g class="legend">). */
function legendRect(svg: string): { x: number; right: number; y: number; bottom: number } {
  const m = /<g class="legend"><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  assert.ok(m, 'a legend');
  const [x, y, width, height] = m.slice(1).map(Number) as [number, number, number, number];
  return { x, right: x + width, y, bottom: y + height };
}

test('the legend moves off the lines: top right over a falling curve, lower down over a rising one', () => {
  const x = Array.from({ length: 50 }, (_, i) => i);
  const falling = legendRect(lineChartSvg([{ name: 'loss', x, y: x.map((i) => 50 - i) }], { title: 't' }));
  assert.equal(falling.y, 44 + 8); // the plot's top (with a title) plus the margin
  const rising = lineChartSvg([{ name: 'accuracy', x, y: x.map((i) => i) }], { title: 't' });
  const box = legendRect(rising);
  assert.ok(box.y > 44 + 8, `legend at y ${box.y}`);
  // the line's end (top right of the plot) passes above the box: its points over the box's width are
  // drawn higher (smaller y) than the box's top
  const points = [...rising.matchAll(/<path class="series"[^>]* d="([^"]+)"/g)].flatMap((p) => [...p[1]!.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
  const right = points.filter(([px]) => px! >= box.x && px! <= box.right);
  assert.ok(right.length > 0 && right.every(([, py]) => py! < box.y), `${box.y} vs ${right.map(([, py]) => py).join(' ')}`);
});

test('bar charts leave the legend headroom: no bar or its value label reaches the legend', () => {
  const svg = barChartSvg({ categories: ['a', 'b', 'c'], series: [1, 2, 3, 4].map((k) => ({ name: `series ${k}`, values: [0.9, 0.95, 1].map((v) => v * k / 4) })) }, { title: 't' });
  const box = legendRect(svg);
  const tops = [...svg.matchAll(/<rect class="bar"[^>]* y="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(tops.length, 12);
  assert.ok(Math.min(...tops) - 16 > box.bottom, `tallest bar at ${Math.min(...tops)}, legend ends at ${box.bottom}`);
});
