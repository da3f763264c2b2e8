// Text inputs without line ends: a corpus file, stdin lines, a pre-training JSONL line. Each is
// refused at its line limit with the file and line, instead of growing one string until V8 gives up.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { readDocuments } from '../src/data/documents.ts';
import { readJsonlRecords } from '../src/data/jsonl.ts';
import { BertError } from '../src/errors.ts';
import { LIMITS } from '../src/limits.ts';
import { utf8Lines } from '../src/tokenizer/lines.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-text-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const oneLine = (re: RegExp) => (e: unknown) => e instanceof BertError && re.test(e.message) && !e.message.includes('\n');

test('a corpus file whose second line never ends is refused at the line limit, naming file:line', async () => {
  const path = join(dir, 'corpus.txt');
  writeFileSync(path, Buffer.concat([Buffer.from('first line.\n'), Buffer.alloc(LIMITS.textLine + (2 << 20), 'a')]));
  await assert.rejects(async () => {
    for await (const _ of readDocuments([path])) void _;
  }, oneLine(/corpus\.txt:2: line is longer than the limit of 67108864 characters$/));
});

test('stdin lines are bounded the same way', async () => {
  const chunk = Buffer.alloc(1 << 20, 'b');
  const source = Readable.from((function* () {
    yield Buffer.from('ok\n');
    for (let i = 0; i < 70; i++) yield chunk;
  })());
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const line of utf8Lines(source, 'stdin')) seen.push(line);
  }, oneLine(/^stdin:2: line is longer than the limit of 67108864 bytes$/));
  assert.deepEqual(seen, ['ok']);
});

test('a pre-training JSONL line over the limit is refused, naming file:line', () => {
  const path = join(dir, 'data.jsonl');
  writeFileSync(path, `{"input_ids": [${'1,'.repeat(LIMITS.jsonlLineChars / 2 + 10)}1]}\n`);
  assert.throws(() => readJsonlRecords(path), oneLine(/data\.jsonl:1: line is longer than the limit of 8388608 characters$/));
});
