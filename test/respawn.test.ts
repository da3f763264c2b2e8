import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TRAINING_MALLOC, wantsRespawn } from '../src/cli/respawn.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-respawn-'));
after(() => rmSync(work, { recursive: true, force: true }));
const linux = process.platform === 'linux';
const why = 'the restart with a tuned glibc malloc happens on Linux only';

interface Probe { pid: number; ppid: number; tunables: string | null; huge_kb: number }

function start(command: string, mode: 'exit3' | 'wait', env: NodeJS.ProcessEnv = {}) {
  const file = join(work, `${command}-${mode}-${Math.random().toString(36).slice(2)}.json`);
  const { GLIBC_TUNABLES: _, BERT_TS_MALLOC: __, ...clean } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/respawn-probe.ts', command, mode, file], { stdio: 'ignore', env: { ...clean, ...env } });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((done) => child.once('exit', (c, s) => done([c, s])));
  const probe = async (): Promise<Probe> => {
    for (let t = Date.now(); !existsSync(file); await new Promise((r) => setTimeout(r, 20))) assert.ok(Date.now() - t < 30_000, 'the probe ran');
    await new Promise((r) => setTimeout(r, 50));
    return JSON.parse(readFileSync(file, 'utf8')) as Probe;
  };
  return { child, exited, probe };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('only the training commands restart, on Linux, and not when GLIBC_TUNABLES is set, BERT_TS_MALLOC=default or under a debugger', () => {
  for (const c of ['pretrain', 'finetune', 'start', 'experiment']) assert.ok(wantsRespawn([c, '--x'], {}, 'linux'), c);
  for (const c of ['serve', 'embed', 'tokenize', 'vocab', 'make-pretraining-data']) assert.ok(!wantsRespawn([c], {}, 'linux'), c);
  assert.ok(!wantsRespawn([], {}, 'linux'));
  assert.ok(!wantsRespawn(['pretrain'], {}, 'darwin'));
  assert.ok(!wantsRespawn(['pretrain'], { GLIBC_TUNABLES: 'glibc.malloc.check=0' }, 'linux'));
  assert.ok(!wantsRespawn(['pretrain'], { BERT_TS_MALLOC: 'default' }, 'linux'));
  assert.ok(!wantsRespawn(['pretrain'], {}, 'linux', ['--inspect-brk=9229']), 'not under a debugger');
  assert.ok(wantsRespawn(['pretrain'], {}, 'linux', ['--import', 'tsx']));
});

test('a training command runs in a child with the tuned malloc, and its exit code comes back', { skip: !linux && why }, async () => {
  const { child, exited, probe } = start('pretrain', 'exit3');
  const p = await probe();
  assert.equal(p.tunables, TRAINING_MALLOC);
  assert.equal(p.ppid, child.pid, 'the command ran in a child of the started process');
  assert.deepEqual(await exited, [3, null]);
});

// The kernel's transparent huge pages mode: 'always', 'madvise' or 'never' (also where it has none).
const thpFile = '/sys/kernel/mm/transparent_hugepage/enabled';
const thpMode = linux && existsSync(thpFile) ? (/\[(\w+)\]/.exec(readFileSync(thpFile, 'utf8'))?.[1] ?? 'never') : 'never';

// glibc.malloc.hugetlb needs glibc 2.35 and a kernel that offers transparent huge pages ('always' or 'madvise').
function hugePagesUnavailable(): string | false {
  if (!linux) return why;
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  const [major = 0, minor = 0] = (glibc ?? '').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 35)) return `glibc ${glibc ?? 'unknown'} has no glibc.malloc.hugetlb (2.35+)`;
  if (thpMode === 'never') return 'this kernel offers no transparent huge pages';
  return false;
}

test('the training child gets transparent huge pages for its large blocks, the started process does not ask for them', { skip: hugePagesUnavailable() }, async () => {
  const { exited, probe } = start('pretrain', 'exit3');
  const p = await probe();
  await exited;
  assert.ok(p.huge_kb >= 32 << 10, `a 64 MB block in the training child is mostly huge pages (got ${p.huge_kb} kB)`);
  const plain = start('pretrain', 'exit3', { BERT_TS_MALLOC: 'default' });
  const q = await plain.probe();
  await plain.exited;
  if (thpMode === 'madvise') assert.equal(q.huge_kb, 0, 'with the kernel in madvise mode, only a process that asks gets huge pages');
});

test('other commands, and BERT_TS_MALLOC=default, run in the started process itself', { skip: !linux && why }, async () => {
  for (const [command, env] of [['tokenize', {}], ['pretrain', { BERT_TS_MALLOC: 'default' }]] as const) {
    const { child, exited, probe } = start(command, 'exit3', env);
    const p = await probe();
    assert.equal(p.pid, child.pid, command);
    assert.equal(p.tunables, null, command);
    assert.deepEqual(await exited, [3, null]);
  }
});

test('SIGTERM to the started process stops the child, and the started process ends by the same signal', { skip: !linux && why }, async () => {
  const { child, exited, probe } = start('finetune', 'wait');
  const p = await probe();
  assert.ok(alive(p.pid));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, [null, 'SIGTERM']);
  for (let t = Date.now(); alive(p.pid); await new Promise((r) => setTimeout(r, 20))) assert.ok(Date.now() - t < 10_000, 'the child ended');
});

test('a child whose parent is killed (SIGKILL, nothing forwarded) ends itself', { skip: !linux && why }, async () => {
  const { child, exited, probe } = start('pretrain', 'wait');
  const p = await probe();
  child.kill('SIGKILL');
  await exited;
  for (let t = Date.now(); alive(p.pid); await new Promise((r) => setTimeout(r, 20))) assert.ok(Date.now() - t < 10_000, 'the orphaned child ended');
});
