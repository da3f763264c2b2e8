// bin/bert.js's first step with a probe in place of the CLI: argv is COMMAND MODE FILE. The process that
// runs the command writes its pid, parent pid and GLIBC_TUNABLES to FILE, then exits with code 3
// (MODE exit3) or waits for a signal (MODE wait).
import { writeFileSync } from 'node:fs';
import { respawnForTraining } from '../../src/cli/respawn.ts';

const status = await respawnForTraining();
if (status !== undefined) process.exitCode = status;
else {
  const [mode, file] = process.argv.slice(3);
  writeFileSync(file!, JSON.stringify({ pid: process.pid, ppid: process.ppid, tunables: process.env.GLIBC_TUNABLES ?? null }));
  if (mode === 'exit3') process.exitCode = 3;
  else setInterval(() => {}, 1000);
}
