import { Command, CommanderError } from 'commander';
import { BertError } from '../errors.ts';
import { commands } from './commands/index.ts';

/** Builds the `bert` program. Each command lives in its own file under ./commands. */
export function buildProgram(): Command {
  const program = new Command('bert')
    .description('BERT end to end in TypeScript: tokenize, pre-train, fine-tune, serve.')
    .exitOverride()
    .showHelpAfterError();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof BertError) {
      process.stderr.write(`bert: error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
