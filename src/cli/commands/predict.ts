import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic.ts';
import { predictRecords } from '../../train/finetune.ts';
import { TASK_NAMES } from '../../train/finetune-tasks.ts';
import { featureOptions, finiteNumber, parseFeatureFlags, type FeatureFlagText } from './finetune.ts';
import { positiveInt } from './tokenize.ts';

interface Flags extends FeatureFlagText {
  model: string;
  task: string;
  data: string;
  out: string;
  batchSize: string;
  nullThreshold: string;
}

export function register(program: Command): void {
  featureOptions(
    program
      .command('predict')
      .description('predictions of a fine-tuned model folder, one JSON line per input: label and probabilities, value, tags per word, answer span, chosen ending')
      .requiredOption('--model <dir>', 'a fine-tuned model folder')
      .requiredOption('--task <name>', TASK_NAMES.join(' '))
      .requiredOption('--data <file>', 'inputs in the task format (labels, if present, are ignored)')
      .requiredOption('--out <file>', 'where to write the JSON Lines'),
  )
    .option('--batch-size <n>', 'inputs per forward pass', '32')
    .option('--null-threshold <x>', 'squad2: answer nothing when the no-answer score beats the best span by more than this', '0')
    .action(async (flags: Flags) => {
      const records = await predictRecords({
        ...parseFeatureFlags(flags),
        model: flags.model,
        task: flags.task,
        data: flags.data,
        batchSize: positiveInt(flags.batchSize, '--batch-size'),
        nullThreshold: finiteNumber(flags.nullThreshold, '--null-threshold'),
        onMessage: (m) => process.stderr.write(`${m}\n`),
      });
      writeFileAtomic(flags.out, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      process.stdout.write(`${records.length} predictions -> ${flags.out}\n`);
    });
}
