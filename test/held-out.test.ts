import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdOutDocuments, holdOutExamples } from '../src/data/held-out.ts';

test('every n-th document is held out, counting documents (not lines) from 0, blank runs and CRLF included', () => {
  const text = 'a1\na2\n\nb1\r\n\r\n\n\nc1\nc2\n \nd1\n\ne1\n';
  const s = holdOutDocuments(text, 2);
  assert.equal(s.heldOut, 'a1\na2\n\nc1\nc2\n\ne1\n');
  assert.equal(s.train, 'b1\n\nd1\n');
  assert.deepEqual([s.trainDocuments, s.heldOutDocuments], [2, 3]);
  assert.equal(holdOutDocuments(text, 2, 3).train, 'b1\n');
});

test('too few documents to hold some out and keep some is an error', () => {
  assert.throws(() => holdOutDocuments('only one\n', 2), /1 documents/);
  assert.throws(() => holdOutDocuments('a\n\nb\n', 1), /n >= 2/);
});

test('held-out examples: every k-th row of a TSV (header kept in both), every k-th sentence of a CoNLL file (-DOCSTART- dropped)', () => {
  const tsv = holdOutExamples('label\ttext\n0\ta\n1\tb\n0\tc\n1\td\n0\te\n', 'tsv-header', 2);
  assert.equal(tsv.heldOut, 'label\ttext\n0\ta\n0\tc\n');
  assert.equal(tsv.rest, 'label\ttext\n1\tb\n1\td\n0\te\n');
  const conll = holdOutExamples('-DOCSTART- O\n\nA x\nB y\n\nC z\n\nD x\n\n\nE y\n', 'conll', 2);
  assert.equal(conll.heldOut, 'A x\nB y\n\nD x\n');
  assert.equal(conll.rest, 'C z\n\nE y\n');
  assert.throws(() => holdOutExamples('h\n1\n2\n3\n', 'tsv-header', 2), /3 examples: too few to hold out 2/);
});
