// parseCsv (slices between special characters) against the plain RFC 4180 state machine it replaced
// (one character at a time), on random text over the characters that matter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseCsv, type Row } from '../src/data/tasks/delimited.ts';
import { readCsv, readTsv } from '../src/data/tasks/lines.ts';
import { LIMITS } from '../src/limits.ts';

/** The character-at-a-time reader, kept as the reference. */
function referenceCsv(text: string): Row[] | 'unterminated' {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  const endRow = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ fields, line: rowLine });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      endRow();
      line++;
      rowLine = line;
    } else if (c !== '\r' || text[i + 1] !== '\n') field += c;
  }
  if (quoted) return 'unterminated';
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

test('parseCsv reads random CSV exactly as the character-at-a-time reader does', () => {
  const csv = fc.array(fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é'), { maxLength: 60 }).map((cs) => cs.join(''));
  fc.assert(
    fc.property(csv, (text) => {
      const expected = referenceCsv(text);
      if (expected === 'unterminated') assert.throws(() => parseCsv(text, 'x.csv'), /unterminated quoted field/);
      else assert.deepEqual(parseCsv(text, 'x.csv'), expected);
    }),
    { seed: 4180, numRuns: 3000 },
  );
});

test('hand-worked rows: quotes, doubled quotes, newlines inside quotes, CRLF', () => {
  assert.deepEqual(parseCsv('a,"b,""c""\nd"\r\ne,f\n', 'x.csv'), [
    { fields: ['a', 'b,"c"\nd'], line: 1 },
    { fields: ['e', 'f'], line: 3 },
  ]);
});

test('task files past the row or column limit are refused before they are held as rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bert-csv-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const rows = LIMITS.taskRows;
  assert.throws(() => readTsv(write('rows.tsv', 'a\tb\n'.repeat(rows + 1))), new RegExp(`rows\\.tsv: more than ${rows} lines \\(the limit\\)$`));
  assert.throws(() => readCsv(write('rows.csv', `"q\n"${',\n'.repeat(rows + 1)}`)), new RegExp(`rows\\.csv: more than ${rows} rows \\(the limit\\)$`));
  assert.throws(() => readTsv(write('cols.tsv', `a\tb\n${'\t'.repeat(LIMITS.taskColumns + 5)}\n`)), /cols\.tsv:2: more than 4096 columns \(the limit\)$/);
  assert.throws(() => readCsv(write('cols.csv', `a,b\n${','.repeat(LIMITS.taskColumns + 5)}\n`)), /cols\.csv:2: more than 4096 columns \(the limit\)$/);
  assert.equal(readTsv(write('ok.tsv', `${'x\t'.repeat(LIMITS.taskColumns - 1)}x\n`))[0]!.fields.length, LIMITS.taskColumns);
  rmSync(dir, { recursive: true, force: true });
});
