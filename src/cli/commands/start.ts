import type { Command } from 'commander';
import { runStartJob, START_DEFAULTS } from '../start-job.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { checked, finiteNumber, positiveInt } from '../flags.ts';

export function register(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): vocabulary, pre-training data and a mini BERT pre-trained on the Brown corpus, evaluated on held-out documents')
    .option('--out <dir>', 'where everything is written', START_DEFAULTS.out)
    .option(...checked('--steps <n>', 'pre-training steps', positiveInt, START_DEFAULTS.steps))
    .option(...checked('--batch-size <n>', 'pre-training batch size', positiveInt, START_DEFAULTS.batchSize))
    .option(...checked('--max-seq-length <n>', 'tokens per pre-training example', positiveInt, START_DEFAULTS.maxSeqLength))
    .option(...checked('--vocab-size <n>', 'WordPiece vocabulary size', positiveInt, START_DEFAULTS.vocabSize))
    .option(...checked('--lr <x>', 'peak learning rate', finiteNumber, START_DEFAULTS.lr))
    .option('--no-finetune', 'skip the fine-tuning comparison (pre-trained vs random init on Brown POS tagging)')
    .action(async (flags: { out: string; steps: number; batchSize: number; maxSeqLength: number; vocabSize: number; lr: number; finetune: boolean }) => {
      const t0 = performance.now();
      const log = (line: string) => process.stdout.write(`${line}\n`);
      let progress: ProgressReporter | undefined;
      const summary = await runStartJob({
        ...START_DEFAULTS,
        out: flags.out,
        steps: flags.steps,
        batchSize: flags.batchSize,
        maxSeqLength: flags.maxSeqLength,
        vocabSize: flags.vocabSize,
        lr: flags.lr,
        finetune: flags.finetune,
        log,
        onStep: (r) => {
          progress ??= new ProgressReporter({ total: r.steps, start: r.step - 1, label: 'pretrain' });
          progress.update(r.step, { ...r });
          if (r.step === r.steps) progress.stop({ ...r });
        },
      });
      const e = summary.pretrain.eval!;
      log('');
      log(`held-out MLM accuracy ${(100 * e.mlm_accuracy).toFixed(1)}% (most-frequent-token baseline ${(100 * summary.baseline_mlm_accuracy).toFixed(1)}%), perplexity ${e.mlm_perplexity.toFixed(1)}`);
      log(`held-out NSP accuracy ${(100 * e.nsp_accuracy).toFixed(1)}% (majority label ${(100 * summary.baseline_nsp_accuracy).toFixed(1)}%)`);
      if (e.nsp_accuracy < summary.baseline_nsp_accuracy + 0.02) {
        log('  next-sentence prediction takes longer than this run: it leaves the majority label after some 2,000 steps of 16 pairs (`npm run start:long`, about 45 minutes on 2 cores; see the README)');
      }
      const f = summary.finetune;
      if (f) {
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        log(`Brown POS tagging (${f.tags} tags), held-out word ${f.metric}: pre-trained ${pct(f.pretrained)}  vs  random init ${pct(f.random)}  (same budget and seed; chart ${f.chart})`);
      }
      log(`model: ${summary.pretrain.modelDir}   total ${((performance.now() - t0) / 1000).toFixed(0)} s ${JSON.stringify(summary.seconds)}`);
    });
}
