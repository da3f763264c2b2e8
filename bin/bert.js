#!/usr/bin/env node
// Thin shim: everything the CLI does is in the library (src/cli/main.ts). The training commands run in a
// child process with glibc's malloc tuned (src/cli/respawn.ts); this process then only waits for it.
import { respawnForTraining } from '../dist/cli/respawn.js';

const status = await respawnForTraining();
if (status === undefined) {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
} else {
  process.exitCode = status;
}
