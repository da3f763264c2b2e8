import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic.ts';
import { predictRecords } from '../../train/finetune-eval.ts';
import { parseScoringFlags, scoringOptions, type ScoringFlags } from './finetune.ts';

export function register(program: Command): void {
  scoringOptions(
    program
      .command('predict')
      .description('predictions of a fine-tuned model folder, one JSON line per input: label and probabilities, value, tags per word, answer span, chosen ending')
      .requiredOption('--out <file>', 'where to write the JSON Lines'),
    'inputs in the task format (labels, if present, are ignored)',
  ).action(async (flags: ScoringFlags & { out: string }) => {
    const records = await predictRecords(parseScoringFlags(flags));
    writeFileAtomic(flags.out, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    process.stdout.write(`${records.length} predictions -> ${flags.out}\n`);
  });
}
