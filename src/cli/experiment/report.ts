// report.html of a study: one self-contained page (inline CSS and SVG, no script, no network) with a
// table and charts per experiment, the findings stated against the paper's claims, and how it ran:
// command lines, seeds, commit, machine, every stage's wall time. Drawn from results.json alone.
import type { PresetName } from '../../model/config.ts';
import type { StageRecord } from './stages.ts';
import { ARM_NAMES, type ComparisonResult } from '../../train/comparison.ts';
import { comparisonCharts } from '../../train/comparison-report.ts';
import { escapeXml as esc, lineChartSvg, type ChartOptions, type LineSeries } from '../../train/plot.ts';
import type { CorpusResult } from './corpus.ts';
import type { PretrainStageResult } from './pretrain-stage.ts';
import type { ExperimentResults } from './study.ts';
import type { TaskPlan } from './plan.ts';

const ARM_COLORS = { pretrained: '#4e79a7', random: '#f28e2b' } as const;
const SIZE_COLORS = ['#4e79a7', '#e15759', '#59a14f', '#b07aa1', '#9c755f'];

const CSS = `
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1180px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.6rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}th,td{border:1px solid #d6d6d6;padding:.3rem .6rem;text-align:right;vertical-align:top}
th{background:#f3f5f7}td.l,th.l{text-align:left}tr.better td.win{font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:.8rem}.charts figure{margin:0;border:1px solid #e3e3e3;border-radius:4px}
.charts svg{display:block;max-width:100%;height:auto}
.status{padding:.5rem .8rem;border-radius:4px;background:#eef6ee;display:inline-block}.status.partial{background:#fff4e0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.verdict li{margin:.35rem 0}.yes{color:#2d7a2d;font-weight:600}.no{color:#b23b3b;font-weight:600}.note{color:#555;font-size:.92rem}
`;

interface Spread {
  mean: number;
  min: number;
  max: number;
  n: number;
}

function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { mean: NaN, min: NaN, max: NaN, n: 0 };
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const num = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const millions = (x: number): string => `${(x / 1e6).toFixed(2)}M`;
const spreadText = (s: Spread): string => (s.n === 0 ? '-' : s.n === 1 ? pct(s.mean) : `${pct(s.mean)} <span class="note">(${pct(s.min)}–${pct(s.max)})</span>`);

function table(id: string, head: string[], rows: string[][], leftColumns = 1): string {
  const cell = (tag: 'td' | 'th', v: string, i: number) => `<${tag}${i < leftColumns ? ' class="l"' : ''}>${v}</${tag}>`;
  return [
    `<table id="${id}"><thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>`,
    ...rows.map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

/** Charts get their own clip-path ids: they share one page. */
class Charts {
  private n = 0;
  line(series: LineSeries[], opts: ChartOptions): string {
    this.n += 1;
    return `<figure>${lineChartSvg(series, { width: 560, height: 330, ...opts, clipId: `clip-${this.n}` })}</figure>`;
  }

  /** The comparison routine's own charts: every seed's score with the baselines, and the dev curves. */
  comparison(c: ComparisonResult, title: string, which: Array<'bars' | 'curves'>): string {
    this.n += 1;
    const charts = comparisonCharts(c, title, `clip-${this.n}`, { width: 560, height: 330 });
    return which.map((k) => `<figure>${charts[k]}</figure>`).join('');
  }
}

function stagesById(r: ExperimentResults): Map<string, StageRecord> {
  return new Map(r.stages.map((s) => [s.id, s]));
}

function result<T>(stages: Map<string, StageRecord>, id: string): T | undefined {
  return stages.get(id)?.result as T | undefined;
}

const armScores = (c: ComparisonResult, arm: 'pretrained' | 'random') => spread(c[arm].scores);

/** Pre-training rows: size, shape, parameters, tokens, held-out numbers against the baselines. */
function pretrainTable(id: string, runs: PretrainStageResult[], corpus: CorpusResult | undefined, seconds: (size: PresetName) => number): string {
  const b = corpus?.baselines.heldOut;
  return table(
    id,
    ['size', 'L / H / A', 'parameters', 'tokens seen', 'held-out MLM perplexity', 'held-out MLM accuracy %', 'held-out NSP accuracy %', 'wall time'],
    runs.map((p) => [
      p.size, `${p.layers} / ${p.hidden} / ${p.heads}`, millions(p.parameters), int(p.tokens),
      `${num(p.eval.mlm_perplexity)}${b ? ` <span class="note">(without context ${num(b.mlm_perplexity)})</span>` : ''}`,
      `${pct(p.eval.mlm_accuracy)}${b ? ` <span class="note">(without context ${pct(b.mlm_copy)}; most frequent token ${pct(b.mlm)})</span>` : ''}`,
      `${pct(p.eval.nsp_accuracy)}${b ? ` <span class="note">(majority ${pct(b.nsp)})</span>` : ''}`,
      `${num(seconds(p.size) / 60)} min`,
    ]),
  );
}

function pretrainCurves(charts: Charts, runs: PretrainStageResult[]): string {
  const color = (i: number) => SIZE_COLORS[i % SIZE_COLORS.length]!;
  const x = (p: PretrainStageResult) => p.history.map((h) => h.step);
  const loss = runs.map((p, i): LineSeries => ({ name: `${p.size} loss`, x: x(p), y: p.history.map((h) => h.loss), color: color(i) }));
  const acc = runs.flatMap((p, i): LineSeries[] => [
    { name: `${p.size} MLM`, x: x(p), y: p.history.map((h) => h.mlm_accuracy), color: color(i) },
    { name: `${p.size} NSP`, x: x(p), y: p.history.map((h) => h.nsp_accuracy), color: color(i), dashed: true },
  ]);
  return `<div class="charts">${charts.line(loss, { title: 'Pre-training loss (MLM + NSP)', xLabel: 'step', yLabel: 'loss', smoothing: 0.9 })}${charts.line(acc, { title: 'Pre-training accuracy on training batches', xLabel: 'step', yLabel: 'accuracy', smoothing: 0.9 })}</div>`;
}

function comparisonRow(label: string[], c: ComparisonResult): string[] {
  const [p, r] = [armScores(c, 'pretrained'), armScores(c, 'random')];
  const baselines = Object.entries(c.baselines).map(([name, v]) => `${esc(name)} ${pct(v)}`).join('<br>');
  return [...label, c.metric, int(c.examples), int(c.test_examples), spreadText(p), spreadText(r), Number.isFinite(p.mean - r.mean) ? `${p.mean >= r.mean ? '+' : ''}${pct(p.mean - r.mean)}` : '-', baselines || '-', String(p.n)];
}

const COMPARISON_HEAD = ['metric', 'train examples', 'scored examples', 'pre-trained % (seed range)', 'random init % (seed range)', 'difference', 'trivial baselines %', 'seeds'];

function recipeText(t: TaskPlan): string {
  return `${esc(t.title)}: a seeded sample of ${int(t.trainExamples)} training examples (${int(t.selectionExamples)} more held out to stop on), up to ${t.epochs} epochs, lr ${t.lr}, batch ${t.batchSize}, ${t.maxSeqLength} tokens; scored on ${esc(t.testNote)}.`;
}

interface Verdict {
  claim: string;
  holds: boolean;
  evidence: string;
}

function verdicts(runs: PretrainStageResult[], comparisons: Array<{ size: string; task: string; c: ComparisonResult }>, tasks: TaskPlan[]): Verdict[] {
  const out: Verdict[] = [];
  if (comparisons.length > 0) {
    const wins = comparisons.filter(({ c }) => armScores(c, 'pretrained').mean > armScores(c, 'random').mean);
    const clear = comparisons.filter(({ c }) => armScores(c, 'pretrained').min > armScores(c, 'random').max);
    const losses = comparisons.filter((x) => !wins.includes(x)).map(({ size, task }) => `${task} (${size})`);
    out.push({
      claim: 'Pre-training lifts every downstream task',
      holds: wins.length === comparisons.length,
      evidence: `pre-trained beat random init on ${wins.length} of ${comparisons.length} task and size pairs (mean over seeds); on ${clear.length} every pre-trained seed beat every random one${losses.length ? `; not on ${losses.join(', ')}` : ''}.`,
    });
  }
  if (runs.length >= 2) {
    const ppl = runs.map((p) => p.eval.mlm_perplexity);
    const falls = ppl.every((v, i) => i === 0 || v < ppl[i - 1]!);
    out.push({ claim: 'Bigger models reach a lower held-out MLM perplexity (same tokens)', holds: falls, evidence: runs.map((p) => `${p.size} ${num(p.eval.mlm_perplexity)}`).join(', ') + '.' });
    const perTask = tasks.map((t) => {
      const scores = runs.map((p) => comparisons.find((x) => x.size === p.size && x.task === t.id)).map((x) => (x ? armScores(x.c, 'pretrained').mean : NaN));
      return { t, scores, rises: scores.every(Number.isFinite) && scores.every((v, i) => i === 0 || v > scores[i - 1]!) };
    }).filter((x) => x.scores.every(Number.isFinite));
    if (perTask.length > 0) {
      out.push({
        claim: 'Bigger pre-trained models fine-tune better, even on small labeled sets',
        holds: perTask.every((x) => x.rises),
        evidence: perTask.map((x) => `${x.t.title}: ${x.scores.map(pct).join(' → ')}${x.rises ? '' : ' (not rising)'}`).join('; ') + '.',
      });
    }
  }
  return out;
}

function verdictList(v: Verdict[]): string {
  if (v.length === 0) return '<p class="note">No finished stage yet.</p>';
  return `<ul class="verdict">${v.map((x) => `<li><span class="${x.holds ? 'yes' : 'no'}">${x.holds ? 'Reproduced' : 'Not reproduced'}</span>: ${esc(x.claim)}. ${esc(x.evidence)}</li>`).join('')}</ul>`;
}

function sizeSection(charts: Charts, r: ExperimentResults, stages: Map<string, StageRecord>): { html: string; verdicts: Verdict[] } {
  const en = r.plan.english;
  const runs = en.sizes.map((s) => result<PretrainStageResult>(stages, `en-pretrain-${s}`)).filter((p): p is PretrainStageResult => p !== undefined);
  const corpus = result<CorpusResult>(stages, 'en-data');
  const comparisons = en.sizes.flatMap((size) => en.tasks.map((t) => ({ size, task: t.id, c: result<ComparisonResult>(stages, `en-finetune-${size}-${t.id}`) })))
    .filter((x): x is { size: PresetName; task: string; c: ComparisonResult } => x.c !== undefined);
  const parts: string[] = ['<section id="model-size"><h2>Model size (English)</h2>'];
  parts.push(`<p>Sizes ${en.sizes.join(', ')} (the presets of Google's small BERTs), each pre-trained from the same seed on the same ${corpus ? `${int(corpus.trainExamples)} examples of ${corpus.maxSeqLength} tokens from the ${esc(corpus.corpus)} (${int(corpus.trainDocuments)} documents; ${int(corpus.heldOutDocuments)} held out)` : 'examples'} for ${en.pretrain.steps} steps of ${en.pretrain.batchSize} sequences, so every size saw the same tokens. Held-out numbers are on the held-out documents' examples; baselines are the guesses that read no context: the most frequent masked token; copying the input token unless it is [MASK] (the paper's masking leaves the answer in place at 10% of the positions), the best such distribution's perplexity; the majority next-sentence label.</p>`);
  parts.push('<h3>Pre-training</h3>', pretrainTable('pretraining-english', runs, corpus, (s) => stages.get(`en-pretrain-${s}`)?.seconds ?? NaN));
  if (runs.length > 1) {
    const x = runs.map((p) => p.parameters);
    parts.push('<div class="charts">');
    parts.push(charts.line([{ name: 'held-out MLM perplexity', x, y: runs.map((p) => p.eval.mlm_perplexity), markers: true }], { title: 'Held-out MLM perplexity vs model size', xLabel: 'parameters', yLabel: 'perplexity', logY: true }));
    parts.push(charts.line([{ name: 'held-out NSP accuracy', x, y: runs.map((p) => p.eval.nsp_accuracy), markers: true, color: '#f28e2b' }, { name: 'held-out MLM accuracy', x, y: runs.map((p) => p.eval.mlm_accuracy), markers: true, color: '#4e79a7' }], { title: 'Held-out accuracy vs model size', xLabel: 'parameters', yLabel: 'accuracy' }));
    parts.push('</div>');
  }
  if (runs.length > 0) parts.push(pretrainCurves(charts, runs));
  parts.push('<h3>Fine-tuning: pre-trained vs random init</h3>');
  parts.push(`<p>Each task is fine-tuned from the pre-trained weights and from random ones by the comparison routine that <code>npm start</code> uses, with the same recipe and the same seeds (${r.plan.seeds.join(', ')}): every run is scored ${en.tasks[0]?.evalsPerRun ?? '-'} times over its schedule on examples held out of the training file ("dev" in the curves), stops early after ${en.tasks[0]?.patience ?? '-'} scores without a better one, and the best parameters are scored once on the evaluation file (the score in the table). ${en.tasks.map((t) => recipeText(t)).join(' ')}</p>`);
  parts.push(table('finetuning-english', ['task', 'size', ...COMPARISON_HEAD], comparisons.map(({ size, task, c }) => comparisonRow([esc(en.tasks.find((t) => t.id === task)?.title ?? task), size], c)), 2));
  if (runs.length > 1 && comparisons.length > 0) {
    parts.push('<div class="charts">');
    for (const t of en.tasks) {
      const points = runs.map((p) => ({ p, c: comparisons.find((x) => x.size === p.size && x.task === t.id)?.c })).filter((x): x is { p: PretrainStageResult; c: ComparisonResult } => x.c !== undefined);
      if (points.length < 2) continue;
      const x = points.map(({ p }) => p.parameters);
      const arm = (a: 'pretrained' | 'random'): LineSeries => {
        const s = points.map(({ c }) => armScores(c, a));
        return { name: ARM_NAMES[a], x, y: s.map((v) => v.mean), band: { lo: s.map((v) => v.min), hi: s.map((v) => v.max) }, color: ARM_COLORS[a], markers: true };
      };
      parts.push(charts.line([arm('pretrained'), arm('random')], { title: `${t.title}: test ${points[0]!.c.metric} vs size`, xLabel: 'parameters', yLabel: `test ${points[0]!.c.metric} (band: seed range)` }));
    }
    parts.push('</div>');
  }
  if (comparisons.length > 0) {
    parts.push('<h3>Fine-tuning dev curves</h3><div class="charts">');
    for (const { size, task, c } of comparisons) parts.push(charts.comparison(c, `${en.tasks.find((t) => t.id === task)?.title ?? task}, ${size}`, ['curves']));
    parts.push('</div>');
  }
  parts.push('</section>');
  return { html: parts.join('\n'), verdicts: verdicts(runs, comparisons, en.tasks) };
}

function chineseSection(charts: Charts, r: ExperimentResults, stages: Map<string, StageRecord>): { html: string; verdicts: Verdict[] } {
  const zh = r.plan.chinese;
  const run = result<PretrainStageResult>(stages, `zh-pretrain-${zh.size}`);
  const corpus = result<CorpusResult>(stages, 'zh-data');
  const comparisons = zh.tasks.map((t) => ({ size: zh.size, task: t.id, c: result<ComparisonResult>(stages, `zh-finetune-${zh.size}-${t.id}`) }))
    .filter((x): x is { size: PresetName; task: string; c: ComparisonResult } => x.c !== undefined);
  const parts: string[] = ['<section id="chinese"><h2>Chinese</h2>'];
  parts.push(`<p>Google's bert-base-chinese vocabulary (${corpus ? int(corpus.vocabSize) : '21,128'} pieces: one piece per Chinese character), a ${zh.size} BERT pre-trained on the ${corpus ? `${esc(corpus.corpus)}: ${int(corpus.trainDocuments)} documents, paragraphs split into sentences on 。！？, ${int(corpus.trainExamples)} examples of ${corpus.maxSeqLength} tokens` : 'CLUE corpus sample'}, ${zh.pretrain.steps} steps of ${zh.pretrain.batchSize} sequences; then ChnSentiCorp sentiment and People's Daily NER, pre-trained vs random init, as for English. ${zh.tasks.map((t) => recipeText(t)).join(' ')}</p>`);
  parts.push('<h3>Pre-training</h3>', pretrainTable('pretraining-chinese', run ? [run] : [], corpus, () => stages.get(`zh-pretrain-${zh.size}`)?.seconds ?? NaN));
  if (run) parts.push(pretrainCurves(charts, [run]));
  parts.push('<h3>Fine-tuning: pre-trained vs random init</h3>');
  parts.push(table('finetuning-chinese', ['task', 'size', ...COMPARISON_HEAD], comparisons.map(({ size, task, c }) => comparisonRow([esc(zh.tasks.find((t) => t.id === task)?.title ?? task), size], c)), 2));
  if (comparisons.length > 0) {
    parts.push('<div class="charts">');
    for (const { task, c } of comparisons) parts.push(charts.comparison(c, `${zh.tasks.find((t) => t.id === task)?.title ?? task}, ${zh.size}`, ['bars', 'curves']));
    parts.push('</div>');
  }
  parts.push('</section>');
  return { html: parts.join('\n'), verdicts: verdicts([], comparisons, zh.tasks).map((v) => ({ ...v, claim: `${v.claim} (Chinese)` })) };
}

function runSection(r: ExperimentResults): string {
  const m = r.machine;
  const parts = ['<section id="run"><h2>How this ran</h2>'];
  parts.push(`<p>Command (${r.complete ? 'complete' : 'partial'} study; rerun it to continue: finished stages are skipped, an interrupted pre-training resumes from its checkpoint):</p><pre>${esc(r.command.join(' '))}</pre>`);
  parts.push(table('machine', ['', ''], [
    ['git commit', `<code>${esc(r.code.commit)}</code>${r.code.dirty ? ' (with uncommitted changes)' : ''}`], ['budget', `${r.plan.budgetMinutes} minutes`], ['seeds', r.plan.seeds.join(', ')],
    ['CPU', esc(m.cpu)], ['cores', String(m.cores)], ['memory', `${m.memoryGiB} GiB`], ['OS', esc(m.os)], ['Node.js', esc(m.node)], ['ONNX Runtime (onnxruntime-node)', esc(m.onnxruntime)],
    ['started (this invocation)', esc(r.started)], ['wall time of all stages', `${num(r.stageSeconds / 60)} min`],
  ]));
  parts.push('<h3>Stages</h3>');
  parts.push(table('stages', ['stage', 'what', 'wall time', 'this invocation'], r.stages.map((s) => [`<code>${esc(s.id)}</code>`, esc(s.title), `${num(s.seconds)} s`, s.skipped ? 'found done, skipped' : 'ran']), 2));
  parts.push('<h3>Command lines of every stage</h3><p class="note">The same work with the <code>bert</code> CLI, stage by stage (paths as in this run).</p>');
  for (const s of r.stages) if (s.commands.length > 0) parts.push(`<p><code>${esc(s.id)}</code></p><pre>${s.commands.map((c) => esc(c.join(' '))).join('\n')}</pre>`);
  parts.push('</section>');
  return parts.join('\n');
}

export function renderReport(r: ExperimentResults): string {
  const stages = stagesById(r);
  const charts = new Charts();
  const size = sizeSection(charts, r, stages);
  const chinese = chineseSection(charts, r, stages);
  const total = 2 + r.plan.english.sizes.length * (1 + r.plan.english.tasks.length) + 1 + r.plan.chinese.tasks.length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bert experiment: pre-training and model size, English and Chinese</title>
<style>${CSS}</style>
</head>
<body>
<h1>bert experiment: pre-training and model size, English and Chinese</h1>
<p class="status${r.complete ? '' : ' partial'}">${r.complete ? 'Complete' : 'Partial'}: ${r.stages.length} of ${total} stages, ${num(r.stageSeconds / 60)} minutes of stage wall time, budget ${r.plan.budgetMinutes} minutes; commit <code>${esc(r.code.commit.slice(0, 12))}</code>.</p>
<section id="findings"><h2>Findings against the paper's claims</h2>
${verdictList([...size.verdicts, ...chinese.verdicts])}
<p class="note">At this scale (minutes of pre-training on a few cores, against the paper's days on TPUs), a claim not reproduced here says what this budget shows, not that the paper is wrong.</p>
</section>
${size.html}
${chinese.html}
${runSection(r)}
</body>
</html>
`;
}
