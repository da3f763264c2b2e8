import type { Command } from 'commander';
import { evaluateModel } from '../../train/finetune-eval.ts';
import { parseScoringFlags, scoringOptions, type ScoringFlags } from './finetune.ts';

export function register(program: Command): void {
  scoringOptions(
    program.command('eval').description("score a fine-tuned model folder on a labelled file with the task's metrics; prints JSON"),
    'labelled data in the task format',
  ).action(async (flags: ScoringFlags) => {
    const scores = await evaluateModel(parseScoringFlags(flags));
    process.stdout.write(`${JSON.stringify({ task: flags.task, examples: scores.examples, main: scores.main, ...scores.metrics }, null, 2)}\n`);
  });
}
