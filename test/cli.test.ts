import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli-in-process.ts';

test('an unknown command exits with code 2', async () => {
  assert.equal((await runCli(['no-such-command'])).code, 2);
});

test('flag values are checked as commander parses them: the error names the flag, and nothing runs', async () => {
  // The data folder does not exist: a flag checked only inside the command would report that instead.
  const pretrain = ['pretrain', '--data', 'no/such/folder', '--config', 'tiny', '--out', 'no/such/out'];
  assert.deepEqual(await runCli([...pretrain, '--steps', '0']), { code: 2, stdout: '', stderr: 'bert: error: --steps must be a positive integer, got "0"\n' });
  assert.deepEqual(await runCli([...pretrain, '--lr', 'fast']), { code: 2, stdout: '', stderr: 'bert: error: --lr must be a non-negative number, got "fast"\n' });
  const fill = await runCli(['fill-mask', '--model', 'no/such/model', '--quantize', 'int4', 'a [MASK]']);
  assert.deepEqual(fill, { code: 2, stdout: '', stderr: 'bert: error: --quantize must be int8, got "int4"\n' });
  const data = await runCli(['make-pretraining-data', '--input', 'x.txt', '--tokenizer', 'no/such', '--out', 'o', '--format', 'csv']);
  assert.deepEqual(data, { code: 2, stdout: '', stderr: 'bert: error: --format must be shards or jsonl, got "csv"\n' });
});
