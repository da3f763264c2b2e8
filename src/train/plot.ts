// Charts as standalone SVG, no dependencies: line charts (loss curves by step, runs side by side)
// and grouped bar charts (fine-tuning scores of two runs). Written atomically.
import { writeFileAtomic } from '../io/atomic.ts';

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; by default the next one of the palette. */
  color?: string;
  dashed?: boolean;
  /** A shaded band around the line (e.g. min and max over seeds), one lo/hi pair per point. */
  band?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  /** A dot at every point (for series of a few points). */
  markers?: boolean;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /**
   * Exponential moving average weight in [0, 1) as TensorBoard's smoothing slider (0 = none); the
   * raw values are drawn faintly underneath. Debiased, so the curve starts at the first value.
   */
  smoothing?: number;
  /** Logarithmic y axis (all plotted y must be positive). */
  logY?: boolean;
  /** Series with more points are thinned to about this many (evenly by index, last point kept). */
  maxPoints?: number;
  /** Id of the plot area's clip path: charts inlined in one HTML page each need their own. */
  clipId?: string;
}

// Tableau 10: distinguishable, and readable for the common colour-vision deficiencies.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;

/** Debiased exponential moving average (TensorBoard's smoothing): s_t = w s_(t-1) + (1 - w) y_t, / (1 - w^t). */
export function ema(values: ArrayLike<number>, weight: number): number[] {
  const out: number[] = [];
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (!Number.isFinite(y)) {
      out.push(y);
      continue;
    }
    n += 1;
    s = weight * s + (1 - weight) * y;
    out.push(s / (1 - weight ** n));
  }
  return out;
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - pad, hi + pad, count);
  }
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The multiple nearest to the raw step on a log scale (thresholds at the geometric means, as d3).
  const err = raw / mag;
  const step = (err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1) * mag;
  const ticks: number[] = [];
  // Integer multiples of the step, so 0.1 * 8 prints as 0.8, not 0.7999999999999999.
  for (let i = Math.floor(lo / step + 1e-9); i <= Math.ceil(hi / step - 1e-9); i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [lo, hi] (both > 0), with 2x and 5x between them when the range is short. */
function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mults) ticks.push(Number((m * 10 ** e).toPrecision(12)));
  const first = ticks.filter((t) => t <= lo).pop() ?? ticks[0]!;
  const last = ticks.find((t) => t >= hi) ?? ticks[ticks.length - 1]!;
  return ticks.filter((t) => t >= first && t <= last);
}

/** Tick label: 12k, 1.5M, 0.25, 3e-5. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a < 1e-3) return v.toExponential(0);
  return trim(v);
}
function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(opts: ChartOptions): Frame {
  const width = opts.width ?? 800;
  const height = opts.height ?? 450;
  return { width, height, left: 72, right: width - 24, top: opts.title ? 44 : 20, bottom: height - (opts.xLabel ? 56 : 36) };
}

function header(f: Frame, opts: ChartOptions): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" ${FONT} font-size="12">`,
    `<rect width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
  ];
  if (opts.title) {
    // A long title gets a smaller font instead of running off both edges (about 0.62 em a character, bold).
    const size = Math.min(16, Math.floor((f.width - 24) / (0.62 * opts.title.length)));
    out.push(`<text x="${f.width / 2}" y="26" text-anchor="middle" font-size="${size}" font-weight="600" fill="#222">${escapeXml(opts.title)}</text>`);
  }
  if (opts.xLabel) out.push(`<text x="${(f.left + f.right) / 2}" y="${f.height - 14}" text-anchor="middle" fill="#444">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = (f.top + f.bottom) / 2;
    out.push(`<text x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})" fill="#444">${escapeXml(opts.yLabel)}</text>`);
  }
  return out;
}

function yAxis(f: Frame, ticks: number[], sy: (v: number) => number): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    const y = r(sy(t));
    out.push(`<line x1="${f.left}" y1="${y}" x2="${f.right}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${f.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${formatTick(t)}</text>`);
  }
  return out;
}

type LegendItem = { name: string; color: string; dashed?: boolean; bar?: boolean };

/** The legend's box at the right of the plot, `dy` below the plot's top. */
function legendBox(f: Frame, items: readonly LegendItem[], dy = 8): { x: number; y: number; width: number; height: number } {
  const width = 16 + 28 + Math.max(...items.map((i) => i.name.length)) * 7;
  return { x: f.right - width - 8, y: f.top + dy, width, height: items.length * 20 + 8 };
}

function legend(f: Frame, items: LegendItem[], dy = 8): string[] {
  if (items.length === 0) return [];
  const { x, y, width, height } = legendBox(f, items, dy);
  const out = [`<g class="legend"><rect x="${x}" y="${y}" width="${width}" height="${height}" rx="4" fill="#ffffff" fill-opacity="0.9" stroke="#d0d0d0"/>`];
  items.forEach((item, i) => {
    const cy = y + 14 + i * 20;
    out.push(
      item.bar
        ? `<rect x="${x + 8}" y="${cy - 5}" width="20" height="10" fill="${item.color}"/>`
        : `<line x1="${x + 8}" y1="${cy}" x2="${x + 28}" y2="${cy}" stroke="${item.color}" stroke-width="2.5"${item.dashed ? ' stroke-dasharray="6 3"' : ''}/>`,
    );
    out.push(`<text x="${x + 36}" y="${cy}" dominant-baseline="middle" fill="#333">${escapeXml(item.name)}</text>`);
  });
  out.push('</g>');
  return out;
}

/**
 * Where a line chart's legend goes: the offset below the plot's top, at the right, that hides the
 * least of the lines (the highest such place): top right for falling curves (loss), lower for rising
 * ones (accuracy). `lines` are polylines in pixels.
 */
function legendOffset(f: Frame, items: readonly LegendItem[], lines: ReadonlyArray<ReadonlyArray<[number, number]>>): number {
  if (items.length === 0) return 8;
  const hidden = (dy: number) => {
    const b = legendBox(f, items, dy);
    const m = 12; // a line just outside the box still crowds it
    const inside = (px: number, py: number) => px >= b.x - m && px <= b.x + b.width + m && py >= b.y - m && py <= b.y + b.height + m;
    let n = 0;
    // 16 samples along each segment, so a line with few points still counts where it runs
    for (const line of lines) {
      for (let i = 1; i < line.length; i++) {
        const [[ax, ay], [bx, by]] = [line[i - 1]!, line[i]!];
        for (let t = 0; t < 16; t++) if (inside(ax + ((bx - ax) * t) / 16, ay + ((by - ay) * t) / 16)) n++;
      }
    }
    return n;
  };
  const room = f.bottom - f.top - legendBox(f, items).height - 8;
  let [best, fewest] = [8, Infinity];
  for (let dy = 8; dy <= room; dy += 8) {
    const n = hidden(dy);
    if (n < fewest) [fewest, best] = [n, dy];
  }
  return best;
}

const r = (v: number): number => Math.round(v * 100) / 100;

/** Index positions to draw: all of them, or about `max` evenly spaced with the last one kept. */
function thin(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const stride = n / max;
  const idx: number[] = [];
  for (let k = 0; k < max; k++) idx.push(Math.floor(k * stride));
  if (idx[idx.length - 1] !== n - 1) idx.push(n - 1);
  return idx;
}

/** SVG path data through the finite points; a non-finite value breaks the line. */
function pathData(xs: number[], ys: number[], sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const px = sx(xs[i]!);
    const py = sy(ys[i]!);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${r(px)} ${r(py)}`);
    pen = true;
  }
  return parts.join(' ');
}

/** A closed outline along `hi` and back along `lo` (points where either is not finite are left out). */
function bandPath(x: ArrayLike<number>, band: NonNullable<LineSeries['band']>, sx: (v: number) => number, sy: (v: number) => number): string {
  const points: Array<[number, number, number]> = [];
  for (let i = 0; i < x.length; i++) {
    const p: [number, number, number] = [sx(x[i] ?? NaN), sy(band.lo[i] ?? NaN), sy(band.hi[i] ?? NaN)];
    if (p.every(Number.isFinite)) points.push(p);
  }
  if (points.length === 0) return '';
  const top = points.map(([px, , hi]) => `${r(px)} ${r(hi)}`);
  const bottom = points.reverse().map(([px, lo]) => `${r(px)} ${r(lo)}`);
  return `M${[...top, ...bottom].join(' L')} Z`;
}

/** A line chart of one or more series sharing the axes, as an SVG document. */
export function lineChartSvg(series: LineSeries[], opts: ChartOptions = {}): string {
  const f = frame(opts);
  const smoothing = opts.smoothing ?? 0;
  const maxPoints = opts.maxPoints ?? 2000;
  const ok = (y: number) => Number.isFinite(y) && (!opts.logY || y > 0);
  const prepared = series.map((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const idx = thin(s.x.length, maxPoints);
    const raw = Array.from(s.y, (y) => (ok(y) ? y : NaN));
    const smooth = smoothing > 0 ? ema(raw, smoothing) : raw;
    // A y missing (y shorter than x) is a gap, like a non-finite one.
    return { ...s, color, xs: idx.map((j) => s.x[j]!), raw: idx.map((j) => raw[j] ?? NaN), ys: idx.map((j) => smooth[j] ?? NaN) };
  });
  const allX = prepared.flatMap((s) => s.xs).filter(Number.isFinite);
  const bandY = series.flatMap((s) => (s.band ? [...Array.from(s.band.lo), ...Array.from(s.band.hi)] : [])).filter(ok);
  const allY = [...prepared.flatMap((s) => s.raw), ...bandY].filter(Number.isFinite);
  const [x0, x1] = allX.length ? [Math.min(...allX), Math.max(...allX)] : [0, 1];
  const [y0, y1] = allY.length ? [Math.min(...allY), Math.max(...allY)] : opts.logY ? [1, 10] : [0, 1];
  const xt = niceTicks(x0, x1 === x0 ? x0 + 1 : x1);
  const yt = opts.logY ? logTicks(y0, y1 === y0 ? y0 * 10 : y1) : niceTicks(y0, y1);
  const [xa, xb] = [xt[0]!, xt[xt.length - 1]!];
  const [ya, yb] = [yt[0]!, yt[yt.length - 1]!];
  const sx = (v: number) => f.left + ((v - xa) / (xb - xa)) * (f.right - f.left);
  const sy = opts.logY
    ? (v: number) => f.bottom - ((Math.log10(v) - Math.log10(ya)) / (Math.log10(yb) - Math.log10(ya))) * (f.bottom - f.top)
    : (v: number) => f.bottom - ((v - ya) / (yb - ya)) * (f.bottom - f.top);

  const out = header(f, opts);
  out.push(...yAxis(f, yt, sy));
  for (const t of xt) {
    const x = r(sx(t));
    out.push(`<line x1="${x}" y1="${f.bottom}" x2="${x}" y2="${f.bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${f.bottom + 18}" text-anchor="middle" fill="#555">${formatTick(t)}</text>`);
  }
  out.push(`<line x1="${f.left}" y1="${f.bottom}" x2="${f.right}" y2="${f.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}" stroke="#333"/>`);
  const clip = opts.clipId ?? 'plot-area';
  out.push(`<clipPath id="${clip}"><rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}"/></clipPath>`);
  out.push(`<g clip-path="url(#${clip})" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  for (const s of prepared) {
    if (s.band) out.push(`<path class="band" data-series="${escapeXml(s.name)}" d="${bandPath(s.x, s.band, sx, sy)}" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`);
  }
  for (const s of prepared) {
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    if (smoothing > 0) {
      out.push(`<path class="raw" data-series="${escapeXml(s.name)}" d="${pathData(s.xs, s.raw, sx, sy)}" stroke="${s.color}" stroke-opacity="0.25" stroke-width="1"${dash}/>`);
    }
    out.push(`<path class="series" data-series="${escapeXml(s.name)}" d="${pathData(s.xs, s.ys, sx, sy)}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.markers) {
      s.xs.forEach((x, i) => {
        const [px, py] = [sx(x ?? NaN), sy(s.ys[i] ?? NaN)];
        if (Number.isFinite(px) && Number.isFinite(py)) out.push(`<circle cx="${r(px)}" cy="${r(py)}" r="3.5" fill="${s.color}" stroke="none"/>`);
      });
    }
  }
  out.push('</g>');
  const items = prepared.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed }));
  const lines = prepared.map((s) => s.xs.map((x, i): [number, number] => [sx(x), sy(s.ys[i] ?? NaN)]));
  out.push(...legend(f, items, legendOffset(f, items, lines)));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface BarGroups {
  /** One group of bars per category (e.g. a metric or a task). */
  categories: string[];
  /** One bar per series in each group (e.g. two runs); `values[i]` belongs to `categories[i]`. */
  series: Array<{ name: string; values: number[]; color?: string }>;
}

/** A grouped bar chart (y from 0), values printed over the bars. */
export function barChartSvg(data: BarGroups, opts: ChartOptions = {}): string {
  const f = frame(opts);
  const values = data.series.flatMap((s) => s.values).filter(Number.isFinite);
  const hi = Math.max(0, ...values);
  const lo = Math.min(0, ...values);
  // Headroom above the tallest bar for the legend (top right), so it never covers a bar or its value.
  const legendItems = data.series.map((s, k) => ({ name: s.name, color: s.color ?? PALETTE[k % PALETTE.length]!, bar: true }));
  const legendShare = legendItems.length === 0 ? 0 : Math.min(0.6, (legendBox(f, legendItems).height + 24) / (f.bottom - f.top));
  const yt = niceTicks(lo, hi === lo ? lo + 1 : Math.max(hi * 1.08, hi / (1 - legendShare)));
  const [ya, yb] = [yt[0]!, yt[yt.length - 1]!];
  const sy = (v: number) => f.bottom - ((v - ya) / (yb - ya)) * (f.bottom - f.top);
  const out = header(f, opts);
  out.push(...yAxis(f, yt, sy));
  const groupW = (f.right - f.left) / Math.max(1, data.categories.length);
  const barW = (groupW * 0.7) / Math.max(1, data.series.length);
  data.categories.forEach((cat, c) => {
    const gx = f.left + c * groupW + groupW * 0.15;
    data.series.forEach((s, k) => {
      const v = s.values[c];
      if (v === undefined || !Number.isFinite(v)) return;
      const color = s.color ?? PALETTE[k % PALETTE.length]!;
      const [top, bot] = [sy(Math.max(v, 0)), sy(Math.min(v, 0))];
      const x = gx + k * barW;
      out.push(`<rect class="bar" data-series="${escapeXml(s.name)}" x="${r(x + 1)}" y="${r(top)}" width="${r(barW - 2)}" height="${r(bot - top)}" fill="${color}"/>`);
      out.push(`<text x="${r(x + barW / 2)}" y="${r(top - 4)}" text-anchor="middle" font-size="11" fill="#333">${formatTick(v)}</text>`);
    });
    out.push(`<text x="${r(f.left + (c + 0.5) * groupW)}" y="${f.bottom + 18}" text-anchor="middle" fill="#333">${escapeXml(cat)}</text>`);
  });
  out.push(`<line x1="${f.left}" y1="${r(sy(0))}" x2="${f.right}" y2="${r(sy(0))}" stroke="#333"/>`);
  out.push(`<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}" stroke="#333"/>`);
  out.push(...legend(f, legendItems));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes a line chart (e.g. loss, mlm_loss, nsp_loss against step) to `path`, atomically. */
export function writeLossCurveSvg(path: string, series: LineSeries[], opts: ChartOptions = {}): void {
  writeFileAtomic(path, lineChartSvg(series, { xLabel: 'step', yLabel: 'loss', ...opts }));
}

/** Writes a grouped bar chart to `path`, atomically. */
export function writeBarChartSvg(path: string, data: BarGroups, opts: ChartOptions = {}): void {
  writeFileAtomic(path, barChartSvg(data, opts));
}
