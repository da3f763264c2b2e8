// Model folders built to exhaust memory, stack or time: each is refused at once, in one line naming
// the file and the limit, by the library and by the CLI (exit 2, bounded peak RSS).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { bertParameterShapes, countParameters } from '../src/checkpoint/keys.ts';
import { parsePytorchBin } from '../src/checkpoint/pytorch-bin.ts';
import { listZip, readZipEntry } from '../src/checkpoint/zip.ts';
import { BertError } from '../src/errors.ts';
import { LIMITS } from '../src/limits.ts';
import { CONFIG_LIMITS, configFromJson, MAX_PARAMETERS, maxParameterCount } from '../src/model/config.ts';
import { torchFixtureEntries, torchWithPickle, zipArchive, zerosBomb } from './helpers/hostile-files.ts';
import { FIXTURE, tinyConfig, tinyModelFolder } from './helpers/tiny-model.ts';

const CLI = new URL('./helpers/bert-cli-measured.ts', import.meta.url).pathname;
const bertError = (re: RegExp) => (err: unknown) => err instanceof BertError && re.test(err.message) && !err.message.includes('\n');

/** Runs `bert args` as a child; its exit code, stderr, and peak RSS in kB. */
function runChild(args: string[]): { code: number | null; stderr: string; peakKb: number } {
  const dir = mkdtempSync(join(tmpdir(), 'bert-rss-'));
  const rssFile = join(dir, 'rss');
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BERT_TEST_PEAK_RSS: rssFile },
    timeout: 60_000,
  });
  const peakKb = Number(readFileSync(rssFile, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { code: r.status, stderr: r.stderr, peakKb };
}

/** The tiny model folder with config.json changed by `edit`. */
function folderWithConfig(edit: (c: Record<string, unknown>) => void): string {
  const dir = tinyModelFolder();
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** The tiny model folder holding a pytorch_model.bin whose data.pkl is 2 GiB of deflated zeros. */
function folderWithZipBomb(declared: number): string {
  const dir = tinyModelFolder();
  rmSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'pytorch_model.bin'), torchWithPickle({ data: zerosBomb(2048), method: 8, size: declared }));
  return dir;
}

function timed<T>(f: () => T): { ms: number; error: unknown } {
  const t0 = performance.now();
  try {
    f();
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
  return { ms: performance.now() - t0, error: undefined };
}

test('a config.json asking for an absurd model beside a small checkpoint is refused in well under a second, naming config.json and the limit', () => {
  const dir = folderWithConfig((c) => (c.num_hidden_layers = 100_000));
  const { ms, error } = timed(() => loadCheckpoint(dir));
  assert.ok(bertError(/config\.json: invalid BERT config: num_hidden_layers is 100000, over the limit of 256$/)(error), String(error));
  assert.ok(ms < 1000, `refusal took ${ms} ms`);

  const help = runChild(['--help']);
  const cli = runChild(['embed', '--model', dir, 'hello']);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^bert: error: .*config\.json: .*over the limit of 256\n$/);
  // The refusal costs what starting the CLI costs, give or take 64 MB (it grew past 1.2 GB before).
  assert.ok(cli.peakKb < help.peakKb + 64 * 1024, `peak RSS ${cli.peakKb} kB, --help ${help.peakKb} kB`);
  rmSync(dir, { recursive: true, force: true });
});

test('a config within the limits but describing far more than its checkpoint holds is refused before any graph is built', () => {
  const dir = folderWithConfig((c) => (c.num_hidden_layers = 200));
  const help = runChild(['--help']);
  const cli = runChild(['embed', '--model', dir, 'hello']);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^bert: error: .*model\.safetensors: checkpoint holds [\d.]+% of the \d+ parameters the config describes \(\d+ tensors missing, first bert\.encoder\.layer\.2\.[^)]*\); refusing .*\n$/);
  assert.ok(cli.peakKb < help.peakKb + 64 * 1024, `peak RSS ${cli.peakKb} kB, --help ${help.peakKb} kB`);
  rmSync(dir, { recursive: true, force: true });
});

test('config sizes: each over its limit, and a parameter count over 2^29, is one line naming the field and the limit', () => {
  const base = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
  for (const [field, limit] of Object.entries(CONFIG_LIMITS)) {
    if (field === 'num_labels' || field === 'num_attention_heads') continue;
    assert.throws(() => configFromJson({ ...base, [field]: limit + 1 }, 'config.json'), bertError(new RegExp(`^config\\.json: invalid BERT config: ${field} is ${limit + 1}, over the limit of ${limit}$`)));
  }
  for (const v of [0, -1, 2.5, 2 ** 31, 2 ** 63, '12', null]) {
    assert.throws(() => configFromJson({ ...base, hidden_size: v }), BertError);
  }
  // Each size in range, together too many: 4096 x 65536 x 256 layers.
  assert.throws(
    () => configFromJson({ ...base, hidden_size: 4096, num_attention_heads: 64, intermediate_size: 65536, num_hidden_layers: 256 }),
    bertError(/sizes ask for \d+ parameters .* over the limit of 536870912 \(2 GiB\)/),
  );
  assert.throws(() => configFromJson({ ...base, id2label: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [i, `L${i}`])) }), bertError(/id2label has 70000 labels, over the limit of 65536/));
  assert.throws(() => configFromJson({ ...base, architectures: 'BertModel' }), bertError(/architectures must be a list/));
  const dir = mkdtempSync(join(tmpdir(), 'bert-deep-'));
  const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(base).slice(0, -1)}, "custom": ${deep}}`);
  writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(FIXTURE, 'model.safetensors')));
  assert.throws(() => loadCheckpoint(dir), bertError(/config\.json: JSON nests deeper than the limit of 64 levels/));
  rmSync(dir, { recursive: true, force: true });
});

test('maxParameterCount is the parameter count of BertForPreTraining plus the classifier', () => {
  const config = tinyConfig();
  const expected = countParameters(bertParameterShapes(config, 'pretraining')) + countParameters(new Map([['w', [7, config.hidden_size]], ['b', [7]]]));
  assert.equal(maxParameterCount(config, 7), expected);
  const large = configFromJson({ hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096 });
  assert.equal(maxParameterCount(large), countParameters(bertParameterShapes(large, 'pretraining')));
  assert.ok(maxParameterCount(large) < MAX_PARAMETERS);
});

test('a pytorch_model.bin whose data.pkl inflates to 2 GiB is refused without inflating past the declared size', () => {
  // Declaring its real size: refused before inflating anything.
  const honest = folderWithZipBomb(2 ** 31);
  const a = timed(() => loadCheckpoint(honest));
  assert.ok(bertError(/pytorch_model\.bin: zip entry pytorch_model\/data\.pkl: declares 2147483648 bytes, over the 67108864 it may hold$/)(a.error), String(a.error));
  // Declaring 1000 bytes: inflating stops at byte 1001.
  const liar = folderWithZipBomb(1000);
  const b = timed(() => loadCheckpoint(liar));
  assert.ok(bertError(/pytorch_model\.bin: zip entry pytorch_model\/data\.pkl: inflates to more than the 1000 bytes it declares \(stopped there\)$/)(b.error), String(b.error));
  assert.ok(a.ms < 1000 && b.ms < 1000, `refusals took ${a.ms} and ${b.ms} ms`);

  const help = runChild(['--help']);
  for (const dir of [honest, liar]) {
    const cli = runChild(['embed', '--model', dir, 'hello']);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /^bert: error: .*pytorch_model\.bin: zip entry .*\n$/);
    // The file is 2.2 MB; the old reader peaked at 4.3 GB.
    assert.ok(cli.peakKb < help.peakKb + 64 * 1024, `peak RSS ${cli.peakKb} kB, --help ${help.peakKb} kB`);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deflated storage may not claim more than 64 times its compressed size, nor more than the tensor needs', () => {
  const entries = torchFixtureEntries();
  const storage = entries.find((e) => /\/data\/\d+$/.test(e.name) && e.data.byteLength > 1000)!;
  const rezip = (pick: (e: { name: string; data: Uint8Array }) => { data: Uint8Array; method: 0 | 8; size?: number }) =>
    zipArchive(entries.map((e) => (e === storage ? { name: e.name, ...pick(e) } : { ...e, method: 0 as const })));
  // Honestly deflated, the archive still reads.
  assert.ok(parsePytorchBin(rezip((e) => ({ data: deflateRawSync(e.data), method: 8, size: e.data.byteLength }))).size > 0);
  assert.throws(() => parsePytorchBin(rezip((e) => ({ data: e.data, method: 0, size: e.data.byteLength - 4 }))), bertError(/stored entry declares \d+ bytes but holds \d+/));
  assert.throws(() => parsePytorchBin(rezip(() => ({ data: zerosBomb(2), method: 8, size: 2 << 20 }))), bertError(/declares 2097152 bytes, over the \d+ it may hold/));
  // A central directory entry whose extra field (where zip64 sizes live) runs past the end of the file.
  const archive = zipArchive([{ name: 'a/data.pkl', data: Buffer.from('x'), method: 0 }]);
  archive.writeUInt16LE(0xffff, archive.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 30);
  assert.throws(() => listZip(archive, 'x'), bertError(/central directory entry 0 runs past the end of the file/));
  const bomb = zipArchive([{ name: 'a/data/0', data: zerosBomb(4), method: 8, size: 4 << 20 }]);
  assert.throws(() => readZipEntry(bomb, listZip(bomb, 'x').get('a/data/0')!, 'x'), bertError(new RegExp(`over the limit of ${LIMITS.inflateRatio}x \\(a zip bomb\\?\\)`)));
});

/** A torch-style pickle: PROTO 2, `body`, STOP. */
const pickle = (...body: number[][]): Uint8Array => Uint8Array.from([0x80, 2, ...body.flat(), 0x2e]);
const parseWithPickle = (pkl: Uint8Array) => parsePytorchBin(torchWithPickle({ data: pkl, method: 0 }));

test('pickles that nest deeply, flood the stack or expand a storage are refused without recursion', () => {
  // 100 000 nested one-tuples: iterative, refused at depth 65.
  assert.throws(() => parseWithPickle(pickle([0x4e], new Array<number>(100_000).fill(0x85))), bertError(/values nest deeper than the limit of 64/));
  // A list appended into itself 100 000 times over (APPEND of a memoised list).
  const selfNest = [0x5d, 0x71, 0, ...Array.from({ length: 100_000 }, () => [0x5d, 0x68, 0, 0x61, 0x71, 0]).flat()];
  assert.throws(() => parseWithPickle(pickle(selfNest)), bertError(/nest deeper than the limit/));
  assert.throws(() => parseWithPickle(pickle(new Array<number>(70).fill(0x28))), bertError(/marks nest deeper than the limit of 64/));
  assert.throws(() => parseWithPickle(pickle(new Array<number>(LIMITS.pickleStack + 1).fill(0x4e))), bertError(/more than 1048576 values on the stack \(the limit\)/));
  // APPENDS of 200 000 values (a spread would overflow the JS stack), then a list where a dict is needed.
  assert.throws(() => parseWithPickle(pickle([0x5d, 0x28], new Array<number>(200_000).fill(0x4e), [0x65])), bertError(/data\.pkl does not hold a state dict/));
  // BINSTRING with a negative length (found by the long fuzz run: it moved the reader backwards).
  assert.throws(() => parseWithPickle(pickle([0x54, 14, 137, 190, 203, 0x4e])), bertError(/cannot read data\.pkl at byte \d+: negative length -\d+$/));
  // A state dict whose key is a deeply nested tuple: described, not stringified.
  assert.throws(() => parseWithPickle(pickle([0x7d, 0x4e], new Array<number>(60).fill(0x85), [0x4e, 0x73])), bertError(/state dict entry a tuple of 1 is not a tensor \(None\)/));
});

test('a tensor viewing its storage with stride 0, or named thousands of times, costs no more than a few times the storage', () => {
  const entries = torchFixtureEntries();
  const biggest = entries.filter((e) => /\/data\/\d+$/.test(e.name)).sort((a, b) => b.data.byteLength - a.data.byteLength)[0]!;
  const count = biggest.data.byteLength / 4;
  const str = (s: string) => [0x8c, s.length, ...Buffer.from(s)];
  const int4 = (n: number) => [0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  // ('storage', torch.FloatStorage, key, 'cpu', count), memoised as 0
  const storage = [0x28, ...str('storage'), 0x63, ...Buffer.from('torch\nFloatStorage\n'), ...str(biggest.name.split('/').pop()!), ...str('cpu'), ...int4(count), 0x74, 0x51, 0x71, 0];
  const rebuild = [0x63, ...Buffer.from('torch._utils\n_rebuild_tensor_v2\n')];
  // {'w': _rebuild_tensor_v2(storage, 0, (1e9,), (0,))}
  const expanded = pickle([0x7d, ...str('w'), ...rebuild, 0x28, ...storage, ...int4(0), ...int4(1e9), 0x85, ...int4(0), 0x85, 0x74, 0x52, 0x73]);
  assert.throws(() => parseWithPickle(expanded), bertError(new RegExp(`has 1000000000 elements, more than its storage holds \\(${count}\\)`)));
  // {'w0': the whole storage, 'w1': the same again, ... 2000 times}: 2000 x the storage.
  const many = [0x7d, 0x28, ...str('w0'), ...rebuild, 0x71, 1, 0x28, ...storage, ...int4(0), ...int4(count), 0x85, ...int4(1), 0x85, 0x74, 0x52];
  for (let i = 1; i < 2000; i++) many.push(...str(`w${i}`), 0x68, 1, 0x28, 0x68, 0, ...int4(0), ...int4(count), 0x85, ...int4(1), 0x85, 0x74, 0x52);
  assert.throws(() => parseWithPickle(pickle(many, [0x75])), bertError(new RegExp(`builds tensors of \\d+ elements from storages of ${count}, over the limit of 4x`)));
  // The same pickle with two names is fine: tied weights share a storage.
  const two = many.slice(0, many.indexOf(0x68, many.indexOf(0x52) + 1) - str('w1').length);
  const tied = parseWithPickle(pickle(two, [...str('w1'), 0x68, 1, 0x28, 0x68, 0, ...int4(0), ...int4(count), 0x85, ...int4(1), 0x85, 0x74, 0x52, 0x75]));
  assert.deepEqual([...tied.keys()], ['w0', 'w1']);
  assert.deepEqual(tied.get('w1')!.data, tied.get('w0')!.data);
});
