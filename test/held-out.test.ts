import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdOutDocuments } from '../src/data/held-out.ts';

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
