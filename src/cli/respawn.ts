// The training commands restart once, in a child process, with glibc's malloc tuned. onnxruntime-node
// (1.30) copies every output of a run into freshly allocated ArrayBuffers, the gradients too (44 MB a step
// at mini, 440 MB a micro-batch at base); with glibc's defaults those blocks go back to the kernel and
// return as fresh pages, faulted in one by one, on every step. `mmap_max=0` and `trim_threshold` keep
// freed memory in the process; `hugetlb=1` (glibc 2.35+) asks for transparent huge pages on the heap, so
// what must still be faulted in comes 2 MB at a time and the GEMMs' large operands need fewer TLB entries.
// Measured by `npm run bench pretrain` (README, Benchmarks). The variable is read only as a process
// starts, hence the child. Linux only; a GLIBC_TUNABLES already set is left as it is, and
// BERT_TS_MALLOC=default turns the restart off.
import { spawn } from 'node:child_process';

export const TRAINING_MALLOC = 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295:glibc.malloc.hugetlb=1';

/** The commands that train, where the copies add up. Their only signal handling is the default. */
const TRAINING = new Set(['pretrain', 'finetune', 'start', 'experiment']);

/**
 * Whether `argv` (after node and the script) should run in a child with TRAINING_MALLOC. Not under a debugger:
 * the child would ask for the same inspector port.
 */
export function wantsRespawn(argv: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform, execArgv: readonly string[] = []): boolean {
  if (execArgv.some((a) => a.startsWith('--inspect'))) return false;
  return platform === 'linux' && TRAINING.has(argv[0] ?? '') && env.GLIBC_TUNABLES === undefined && env.BERT_TS_MALLOC !== 'default';
}

/**
 * In the parent: runs this process's command line again in a child with TRAINING_MALLOC and resolves to its
 * exit code (a child killed by a signal kills this process with the same signal). SIGINT, SIGTERM and
 * SIGHUP are passed on; the child's default handling makes a second delivery (a terminal signals both)
 * harmless. In the child (or when no restart is wanted): resolves to undefined, and the caller runs the
 * command itself. A child whose parent dies, even by SIGKILL, ends itself: the IPC channel closes.
 */
export async function respawnForTraining(): Promise<number | undefined> {
  if (process.channel && process.env.GLIBC_TUNABLES === TRAINING_MALLOC) {
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
    return undefined;
  }
  if (!wantsRespawn(process.argv.slice(2), process.env, process.platform, process.execArgv)) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, GLIBC_TUNABLES: TRAINING_MALLOC },
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const pass = (s: NodeJS.Signals) => child.kill(s);
  for (const s of signals) process.on(s, pass);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (c, s) => done([c, s]));
  });
  for (const s of signals) process.off(s, pass);
  if (signal) process.kill(process.pid, signal);
  return code ?? 1;
}
