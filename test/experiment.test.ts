import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { PretrainStageResult } from '../src/cli/experiment/pretrain-stage.ts';
import { runExperiment, studyStages, type ExperimentResults } from '../src/cli/experiment/study.ts';
import type { ComparisonResult } from '../src/train/comparison.ts';
import { chromiumMissing, launchChromium } from './helpers/chromium.ts';
import { runCli } from './helpers/cli-in-process.ts';
import { tinyStudyPlan } from './helpers/experiment-plan.ts';
import { SHARED_DATA, sharedData } from './helpers/shared-data.ts';

test('bert experiment: a bad flag or a missing data file stops it before any work, naming the flag or the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-flags-'));
  try {
    const out = join(dir, 'out');
    const budget = await runCli(['experiment', '--out', out, '--budget', 'ten']);
    assert.equal(budget.code, 2);
    assert.match(budget.stderr, /--budget must be a positive number of minutes, got "ten"/);
    const zero = await runCli(['experiment', '--out', out, '--budget', '0']);
    assert.match(zero.stderr, /--budget must be a positive number of minutes, got "0"/);
    const data = await runCli(['experiment', '--out', out, '--data', join(dir, 'no-such-data')]);
    assert.equal(data.code, 2);
    assert.match(data.stderr, new RegExp(`${join(dir, 'no-such-data', 'glue', 'SST-2', 'train.tsv')}: data file not found`));
    assert.equal(existsSync(out), false, 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// What the browser reads off the page: body rows per table, and per chart its size and drawn marks.
const PAGE_SUMMARY = `(() => ({
  tables: Object.fromEntries([...document.querySelectorAll('table')].map((t) => [t.id, t.tBodies[0].rows.length])),
  charts: [...document.querySelectorAll('svg')].map((svg) => ({
    title: svg.querySelector('text')?.textContent ?? '',
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
    drawn: [...svg.querySelectorAll('path.series')].filter((p) => p.getTotalLength() > 0).length
      + [...svg.querySelectorAll('rect.bar')].filter((b) => b.getBBox().height > 0 && b.getBBox().width > 0).length,
  })),
}))()`;

interface PageSummary {
  tables: Record<string, number>;
  charts: Array<{ title: string; width: number; height: number; drawn: number }>;
}

test('a tiny study runs every stage, a rerun skips them all, an interrupted pre-training resumes exactly, and its report renders in Chromium', async (t) => {
  if (sharedData('clue_corpus_small_sample/CLUECorpusSmall_bert_sampled.txt') === undefined) return t.skip('../shared/data is missing');
  const dir = mkdtempSync(join(tmpdir(), 'experiment-'));
  const out = join(dir, 'study');
  try {
    const plan = tinyStudyPlan(SHARED_DATA, out, dir);
    const ids = studyStages(plan, out).map((s) => s.id);
    const first = await runExperiment({ out, plan, command: ['bert', 'experiment', '(tiny test plan)'], log: () => {} });
    assert.equal(first.complete, true);
    assert.deepEqual(first.stages.map((s) => [s.id, s.skipped]), ids.map((id) => [id, false]));
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ExperimentResults;
    assert.deepEqual(saved.stages.map((s) => s.id), ids);
    for (const s of saved.stages.filter((s) => s.id.includes('-finetune-'))) {
      const c = s.result as ComparisonResult;
      for (const arm of ['pretrained', 'random'] as const) {
        assert.deepEqual(c[arm].curves.map((r) => r.seed), plan.seeds, `${s.id} ${arm}`);
        assert.ok(c[arm].scores.every((x) => x >= 0 && x <= 1), `${s.id} ${arm}`);
        for (const r of c[arm].curves) assert.ok(r.scores.length >= 1 && r.scores.every((x) => x >= 0 && x <= 1), `${s.id} ${arm} seed ${r.seed}`);
      }
      assert.deepEqual([c.examples, c.test_examples], [24, 30], s.id);
    }

    const lines: string[] = [];
    const again = await runExperiment({ out, plan, command: ['again'], log: (l) => lines.push(l) });
    assert.ok(again.stages.every((s) => s.skipped), lines.join('\n'));

    // Kill mid pre-training, as it were: the last checkpoint and the stage's result are gone, the one before is kept.
    const stage = 'en-pretrain-mini';
    const before = first.stages.find((s) => s.id === stage)!.result as PretrainStageResult;
    rmSync(join(out, stage, 'result.json'));
    rmSync(join(out, stage, `checkpoint-${plan.english.pretrain.steps}`), { recursive: true });
    const resumed: string[] = [];
    const third = await runExperiment({ out, plan, command: ['resume'], log: (l) => resumed.push(l) });
    assert.ok(resumed.some((l) => l.includes(`resuming from ${join(out, stage, `checkpoint-${plan.english.pretrain.steps - 1}`)}`)), resumed.join('\n'));
    assert.deepEqual(third.stages.filter((s) => !s.skipped).map((s) => s.id), [stage]);
    assert.deepEqual((third.stages.find((s) => s.id === stage)!.result as PretrainStageResult).eval, before.eval);

    const missing = chromiumMissing();
    if (missing !== undefined) return t.skip(missing);
    const browser = await launchChromium({ width: 1280, height: 900 });
    let value: PageSummary;
    const requests: string[] = [];
    const report = pathToFileURL(join(out, 'report.html')).href;
    try {
      browser.page.on('request', (r) => {
        if (r.url() !== report) requests.push(r.url());
      });
      await browser.page.goto(report, { waitUntil: 'load' });
      value = (await browser.page.evaluate(PAGE_SUMMARY)) as PageSummary;
    } finally {
      await browser.close();
    }
    assert.deepEqual(browser.log.filter((l) => /^(error|pageerror)/.test(l)), [], 'no console errors');
    assert.deepEqual(requests, [], 'the report loads nothing');
    const page = { value };
    const [S, T, Z] = [plan.english.sizes.length, plan.english.tasks.length, plan.chinese.tasks.length];
    assert.deepEqual(page.value.tables, {
      'pretraining-english': S, 'finetuning-english': S * T, 'pretraining-chinese': 1, 'finetuning-chinese': Z, machine: 11, stages: ids.length,
    });
    // English: perplexity and accuracy vs size, loss and accuracy curves, score vs size per task, a dev curve per size and task;
    // Chinese: loss and accuracy curves, per task every seed's score and the dev curves.
    assert.equal(page.value.charts.length, 4 + T + S * T + 2 + 2 * Z);
    for (const c of page.value.charts) assert.ok(c.width > 100 && c.height > 100 && c.drawn > 0, JSON.stringify(c));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
