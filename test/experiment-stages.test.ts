import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runStages, stageResult, type Stage } from '../src/cli/experiment/stages.ts';

function stages(calls: string[], failAt?: string): Stage[] {
  const make = (id: string, cost: number, value: number): Stage<{ value: number }> => ({
    id,
    title: `stage ${id}`,
    cost,
    async run(ctx) {
      calls.push(id);
      ctx.progress(0.5);
      if (id === failAt) throw new Error(`killed in ${id}`);
      ctx.command(['bert', id]);
      return { value };
    },
  });
  return [make('a', 10, 1), make('b', 30, 2), make('c', 60, 3)];
}

test('a stopped study reruns only the stages without a result, and the progress spans what is left', async () => {
  const out = mkdtempSync(join(tmpdir(), 'stages-'));
  try {
    const calls: string[] = [];
    await assert.rejects(runStages(stages(calls, 'b'), out, { log: () => {} }), /killed in b/);
    assert.deepEqual(calls, ['a', 'b']);
    assert.ok(existsSync(join(out, 'a', 'result.json')) && !existsSync(join(out, 'b', 'result.json')));

    const again: string[] = [];
    const progress: Array<[number, number]> = [];
    const events: string[] = [];
    const records = await runStages(stages(again), out, {
      log: () => {}, onProgress: (done, total) => progress.push([done, total]), onEvent: (e) => events.push(`${e.stage} ${e.event}`),
    });
    assert.deepEqual(events, ['a skipped', 'b start', 'b done', 'c start', 'c done']);
    assert.deepEqual(again, ['b', 'c']);
    assert.deepEqual(records.map((r) => [r.id, r.skipped, (r.result as { value: number }).value]), [['a', true, 1], ['b', false, 2], ['c', false, 3]]);
    assert.deepEqual(records[0]!.commands, [['bert', 'a']]);
    // Units are estimated seconds: a's 10 are done before anything runs; b reports half of its 30, then c half of its 60.
    assert.deepEqual(progress, [[10, 100], [25, 100], [40, 100], [40, 100], [70, 100], [100, 100]]);
    assert.equal(stageResult<{ value: number }>(out, 'c').value, 3);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
