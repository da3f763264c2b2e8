// bin/bert.js's first step with a probe in place of the CLI: argv is COMMAND MODE FILE. The process that
// runs the command writes its pid, parent pid, GLIBC_TUNABLES and how many kB of transparent huge pages
// a 64 MB allocation added (Linux's AnonHugePages) to FILE, then exits with code 3 (MODE exit3) or waits
// for a signal (MODE wait).
import { readFileSync, writeFileSync } from 'node:fs';
import { respawnForTraining } from '../../src/cli/respawn.ts';

const status = await respawnForTraining();
if (status !== undefined) process.exitCode = status;
else {
  const [mode, file] = process.argv.slice(3);
  const hugeKb = () => Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0);
  const before = hugeKb();
  Buffer.alloc(64 << 20, 1);
  const huge_kb = hugeKb() - before;
  writeFileSync(file!, JSON.stringify({ pid: process.pid, ppid: process.ppid, tunables: process.env.GLIBC_TUNABLES ?? null, huge_kb }));
  if (mode === 'exit3') process.exitCode = 3;
  else setInterval(() => {}, 1000);
}
