import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli-in-process.ts';

test('an unknown command exits with code 2', async () => {
  assert.equal((await runCli(['no-such-command'])).code, 2);
});
