// CoNLL column files for token classification: one word per line, the word first and its tag
// last (CoNLL-2003 `word POS chunk NER`, WNUT-17 `word\ttag`), sentences split by blank lines.
import { BertError } from '../../errors.ts';
import { readText, splitLines } from './lines.ts';
import type { TaggedSentence } from './types.ts';

/**
 * Sentences of a CoNLL file. A line holding only whitespace ends a sentence too (WNUT-17's train
 * file separates sentences with a single TAB); `-DOCSTART-` lines are document markers, not words.
 */
export function readConll(path: string): TaggedSentence[] {
  const sentences: TaggedSentence[] = [];
  let words: string[] = [];
  let tags: string[] = [];
  let start = 0;
  const flush = (): void => {
    if (words.length > 0) sentences.push({ words, tags, where: `${path}:${start}` });
    words = [];
    tags = [];
  };
  splitLines(readText(path), path).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return flush();
    const fields = line.split(/[\t ]+/);
    if (fields[0] === '-DOCSTART-') return flush();
    if (fields.length < 2) throw new BertError(`expected a word and a tag, got ${JSON.stringify(raw)}`, `${path}:${i + 1}`);
    if (words.length === 0) start = i + 1;
    words.push(fields[0]!);
    tags.push(fields[fields.length - 1]!);
  });
  flush();
  if (sentences.length === 0) throw new BertError('no sentences', path);
  return sentences;
}
