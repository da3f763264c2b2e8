import type { Command } from 'commander';

/** One entry a command; each adds itself to the program. Add new commands here. */
export const commands: Array<(program: Command) => void> = [];
