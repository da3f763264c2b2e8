// Classification and regression metrics as scikit-learn 1.2 and scipy compute them (GLUE's
// choice of metric per task follows Hugging Face's `glue_compute_metrics`).
import { BertError } from '../../errors.ts';

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new BertError(`${what}: ${a.length} predictions but ${b.length} labels`);
  if (a.length === 0) throw new BertError(`${what}: no examples`);
}

/** Fraction of predictions equal to their label. */
export function accuracy(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(preds, labels, 'accuracy');
  let hits = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i] === labels[i]) hits++;
  return hits / preds.length;
}

/** F1 of one class against the rest; 0 when it has no true or predicted positives (sklearn's zero_division). */
function f1ForClass(preds: ArrayLike<number>, labels: ArrayLike<number>, cls: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < preds.length; i++) {
    const p = preds[i] === cls;
    const t = labels[i] === cls;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/** sklearn `f1_score(average='binary', pos_label=positive)`. */
export function f1Binary(preds: ArrayLike<number>, labels: ArrayLike<number>, positive = 1): number {
  checkSameLength(preds, labels, 'f1');
  return f1ForClass(preds, labels, positive);
}

/** sklearn `f1_score(average='macro')`: unweighted mean over every label seen in labels or predictions. */
export function f1Macro(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(preds, labels, 'macro f1');
  const classes = new Set<number>();
  for (let i = 0; i < preds.length; i++) {
    classes.add(preds[i]!);
    classes.add(labels[i]!);
  }
  let sum = 0;
  for (const c of classes) sum += f1ForClass(preds, labels, c);
  return sum / classes.size;
}

/**
 * sklearn `matthews_corrcoef`, its multi-class form (which equals the binary phi coefficient):
 * 0 when either side predicts a single class.
 */
export function matthewsCorrcoef(preds: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength(preds, labels, 'matthews');
  const t = new Map<number, number>();
  const p = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < preds.length; i++) {
    const label = labels[i]!;
    const pred = preds[i]!;
    t.set(label, (t.get(label) ?? 0) + 1);
    p.set(pred, (p.get(pred) ?? 0) + 1);
    if (pred === label) correct++;
  }
  const s = preds.length;
  let pt = 0;
  for (const [k, tk] of t) pt += tk * (p.get(k) ?? 0);
  let pp = 0;
  for (const pk of p.values()) pp += pk * pk;
  let tt = 0;
  for (const tk of t.values()) tt += tk * tk;
  const covYtYp = correct * s - pt;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/** Pearson's r (scipy.stats.pearsonr), centred first for accuracy; NaN when a side is constant, as scipy. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSameLength(x, y, 'pearson');
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** 1-based ranks, ties sharing the mean of the ranks they span (scipy.stats.rankdata 'average'). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Float64Array(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    const mean = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = mean;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho (scipy.stats.spearmanr): Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSameLength(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

export type GlueTask = 'sst2' | 'cola' | 'mrpc' | 'rte' | 'stsb' | 'qnli' | 'mnli' | 'qqp' | 'wnli';

/**
 * The metrics GLUE reports for a task; the first key is the one to select checkpoints by.
 * Classification tasks take class ids; STS-B takes the predicted and gold scores.
 */
export function glueMetrics(task: GlueTask, preds: ArrayLike<number>, labels: ArrayLike<number>): Record<string, number> {
  switch (task) {
    case 'cola':
      return { mcc: matthewsCorrcoef(preds, labels) };
    case 'stsb': {
      const p = pearson(preds, labels);
      const s = spearman(preds, labels);
      return { corr: (p + s) / 2, pearson: p, spearmanr: s };
    }
    case 'mrpc':
    case 'qqp': {
      const acc = accuracy(preds, labels);
      const f1 = f1Binary(preds, labels);
      return { acc_and_f1: (acc + f1) / 2, acc, f1 };
    }
    default:
      return { acc: accuracy(preds, labels) };
  }
}
