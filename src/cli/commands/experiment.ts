import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { formatDuration, ProgressReporter } from '../../train/progress.ts';
import { DEFAULT_BUDGET_MINUTES, makePlan } from '../experiment/plan.ts';
import { runExperiment } from '../experiment/study.ts';

function budget(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new BertError(`--budget must be a positive number of minutes, got ${JSON.stringify(value)}`);
  return x;
}

export function register(program: Command): void {
  program
    .command('experiment')
    .description("the paper's findings as one study: model size (tiny, mini, small) and pre-trained vs random init on SST-2, MRPC, Brown POS; Chinese (CLUE corpus, ChnSentiCorp, People's Daily NER); writes report.html and results.json")
    .option('--out <dir>', 'where everything is written; run the same command again to continue a stopped study', 'runs/experiment')
    .option('--budget <minutes>', 'time budget on a 2-core machine; every stage scales with it', String(DEFAULT_BUDGET_MINUTES))
    .option('--data <dir>', 'the shared data folder (GLUE, ChnSentiCorp, People\'s Daily NER, CLUE corpus, vocabularies)', '../shared/data')
    .action(async (flags: { out: string; budget: string; data: string }) => {
      const out = resolve(flags.out);
      const plan = makePlan(budget(flags.budget), resolve(flags.data), out);
      const log = (line: string) => process.stdout.write(`${line}\n`);
      let bar: ProgressReporter | undefined;
      const t0 = performance.now();
      const results = await runExperiment({
        out,
        plan,
        command: ['bert', 'experiment', '--out', flags.out, '--budget', flags.budget, ...(flags.data === '../shared/data' ? [] : ['--data', flags.data])],
        log,
        onProgress: (done, total) => {
          bar ??= new ProgressReporter({ total: Math.ceil(total), start: Math.floor(done), label: 'experiment', fields: [] });
          bar.update(Math.min(Math.ceil(total), Math.round(done)), {});
        },
      });
      bar?.stop();
      log(`report: ${resolve(out, 'report.html')}  results: ${resolve(out, 'results.json')}  (${formatDuration((performance.now() - t0) / 1000)})`);
      if (!results.complete) throw new BertError('the study stopped before its last stage');
    });
}
