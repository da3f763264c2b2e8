import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { JsonlLog, readJsonlLog } from '../src/train/jsonl-log.ts';
import { formatDuration, ProgressReporter } from '../src/train/progress.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

test('off a terminal: one line per interval, the last step always, ETA from the rate', () => {
  const out = sink();
  let ms = 0;
  const p = new ProgressReporter({ total: 100, label: 'pretrain', stream: out.stream, tty: false, intervalSeconds: 10, now: () => ms });
  for (let step = 1; step <= 100; step++) {
    ms = step * 1000; // one step a second
    p.update(step, { loss: 10 - step / 20, mlm_accuracy: step / 200, lr: 1e-4, tokens_per_second: 4096 });
  }
  p.stop();
  const lines = out.text().trimEnd().split('\n');
  // Steps 1, 11, 21, ..., 91 (10 s apart) and 100.
  assert.equal(lines.length, 11);
  assert.equal(lines[0], 'pretrain step 1/100 (1.0%) | loss 9.9500 | mlm acc 0.5% | nsp acc - | lr 1.00e-4 | tok/s 4,096 | 1s, ETA 1m39s');
  assert.match(lines[1]!, /^pretrain step 11\/100 .* 11s, ETA 1m29s$/);
  assert.match(lines[10]!, /^pretrain step 100\/100 \(100\.0%\) \| loss 5\.0000 \| mlm acc 50\.0% .* 1m40s, ETA 0s$/);
});

test('a resumed run counts its ETA from where it started', () => {
  const out = sink();
  let ms = 0;
  const p = new ProgressReporter({ total: 1000, start: 900, stream: out.stream, tty: false, fields: [], now: () => ms });
  ms = 10_000;
  p.update(910, {});
  assert.equal(out.text(), 'training step 910/1000 (91.0%) | 10s, ETA 1m30s\n');
});

test('formatDuration', () => {
  assert.deepEqual([0, 42.4, 65, 3725, -1].map(formatDuration), ['0s', '42s', '1m05s', '1h02m', '?']);
});

test('JSON Lines log: appended line by line, resume drops the steps it will redo, torn last line skipped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-'));
  try {
    const path = join(dir, 'log.jsonl');
    const log = JsonlLog.open(path);
    for (let step = 1; step <= 5; step++) {
      log.write({ step, loss: 1 / step });
      // on disk at once: a kill now keeps it
      assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, step);
    }
    log.close();
    appendFileSync(path, '{"step": 6, "lo'); // killed mid-write
    assert.deepEqual(readJsonlLog(path).map((r) => r.step), [1, 2, 3, 4, 5]);

    const resumed = JsonlLog.open(path, { keepThroughStep: 3 });
    resumed.write({ step: 4, loss: 0.2 });
    resumed.close();
    assert.deepEqual(readJsonlLog(path), [{ step: 1, loss: 1 }, { step: 2, loss: 0.5 }, { step: 3, loss: 1 / 3 }, { step: 4, loss: 0.2 }]);

    writeFileSync(path, '{"step":1}\nnot json\n{"step":3}\n');
    assert.throws(() => readJsonlLog(path), /log\.jsonl:2: not a JSON object/);
    assert.throws(() => JsonlLog.open(join(dir, 'no', 'such', 'log.jsonl')), /cannot open log file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
