// A short fixed-seed run of the reader fuzzer (test/helpers/reader-fuzz.ts) over every reader of an
// outside file; scripts/fuzz-readers.ts runs the same property for as long as it is asked to.
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { fuzzRoot, fuzzTargets, mutationsArb, runCase } from './helpers/reader-fuzz.ts';

const RUNS = 40;
const root = fuzzRoot();
after(() => rmSync(root, { recursive: true, force: true }));

for (const [name, target] of Object.entries(fuzzTargets())) {
  test(`fuzzed ${name}: a value or a one-line error naming the file, within bounds`, () => {
    fc.assert(
      fc.property(mutationsArb, (mutations) => {
        runCase(target, mutations, root);
      }),
      { seed: 17, numRuns: RUNS },
    );
  });
}

// Whole files replaced by the smallest documents of every JSON type, and by nothing.
const TINY = ['', 'null', '0', '-1', 'true', '"s"', '[]', '{}', '[null]', '{"a":null}', '\n', '\u0000'];
for (const [name, target] of Object.entries(fuzzTargets())) {
  test(`${name} replaced by tiny documents: a value or a one-line error naming the file`, () => {
    for (const doc of TINY) {
      // `insert` at 0 after `truncate` at 0: the file is exactly `doc`.
      runCase(target, [{ kind: 'truncate', at: 0 }, { kind: 'insert', at: 0, bytes: [...Buffer.from(doc)] }], root);
    }
  });
}
