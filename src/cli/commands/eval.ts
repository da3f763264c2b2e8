import type { Command } from 'commander';
import { evaluateModel } from '../../train/finetune.ts';
import { TASK_NAMES } from '../../train/finetune-tasks.ts';
import { featureOptions, finiteNumber, parseFeatureFlags, type FeatureFlagText } from './finetune.ts';
import { positiveInt } from './tokenize.ts';

interface Flags extends FeatureFlagText {
  model: string;
  task: string;
  data: string;
  batchSize: string;
  nullThreshold: string;
}

export function register(program: Command): void {
  featureOptions(
    program
      .command('eval')
      .description("score a fine-tuned model folder on a labelled file with the task's metrics; prints JSON")
      .requiredOption('--model <dir>', 'a fine-tuned model folder')
      .requiredOption('--task <name>', TASK_NAMES.join(' '))
      .requiredOption('--data <file>', 'labelled data in the task format'),
  )
    .option('--batch-size <n>', 'inputs per forward pass', '32')
    .option('--null-threshold <x>', 'squad2: answer nothing when the no-answer score beats the best span by more than this', '0')
    .action(async (flags: Flags) => {
      const scores = await evaluateModel({
        ...parseFeatureFlags(flags),
        model: flags.model,
        task: flags.task,
        data: flags.data,
        batchSize: positiveInt(flags.batchSize, '--batch-size'),
        nullThreshold: finiteNumber(flags.nullThreshold, '--null-threshold'),
        onMessage: (m) => process.stderr.write(`${m}\n`),
      });
      process.stdout.write(`${JSON.stringify({ task: flags.task, examples: scores.examples, main: scores.main, ...scores.metrics }, null, 2)}\n`);
    });
}
