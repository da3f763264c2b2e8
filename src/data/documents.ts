/**
 * Streams documents out of text files in the original BERT input format: one sentence a line, a
 * blank line between documents (and a new file always starts a new document). With
 * `split_sentences`, each non-blank line is a paragraph that is split into sentences first.
 */
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { BertError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { splitSentences } from './sentences.ts';

export interface TextDocument {
  sentences: string[];
  /** Where the document starts, for error messages. */
  file: string;
  line: number;
}

export interface ReadDocumentsOptions {
  split_sentences?: boolean;
  /** Called with the number of bytes consumed so far across all files. */
  onBytes?: (bytes: number) => void;
}

/** Checks that every input is a readable regular file and returns the total size in bytes. */
export function inputSize(files: readonly string[]): number {
  let total = 0;
  for (const file of files) {
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new BertError('not a regular file', file);
      size = st.size;
    } catch (err) {
      if (err instanceof BertError) throw err;
      throw new BertError(`cannot read input: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file);
    }
    total += size;
  }
  return total;
}

export async function* readDocuments(files: readonly string[], opts: ReadDocumentsOptions = {}): AsyncGenerator<TextDocument> {
  let bytesBefore = 0;
  for (const file of files) {
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let lineNo = 0;
    let current: TextDocument | undefined;
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    const take = (raw: string): TextDocument | undefined => {
      lineNo++;
      const line = raw.trim();
      if (!line) {
        const done = current;
        current = undefined;
        return done !== undefined && done.sentences.length > 0 ? done : undefined;
      }
      current ??= { sentences: [], file, line: lineNo };
      if (opts.split_sentences) current.sentences.push(...splitSentences(line));
      else current.sentences.push(line);
      return undefined;
    };
    try {
      for await (const buf of stream as AsyncIterable<Buffer>) {
        const text = carry + decoder.write(buf);
        let start = 0;
        let nl = text.indexOf('\n', start);
        while (nl !== -1) {
          const doc = take(text.slice(start, nl));
          if (doc) yield doc;
          start = nl + 1;
          nl = text.indexOf('\n', start);
        }
        carry = text.slice(start);
        // Without this a file with no newline grows one string until V8 gives up, copying it each time.
        if (carry.length > LIMITS.textLine) throw new BertError(`line is longer than the limit of ${LIMITS.textLine} characters`, `${file}:${lineNo + 1}`);
        opts.onBytes?.(bytesBefore + stream.bytesRead);
      }
    } catch (err) {
      if (err instanceof BertError) throw err;
      throw new BertError(`cannot read input: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, file);
    }
    const last = take(carry + decoder.end());
    if (last) yield last;
    if (current !== undefined && current.sentences.length > 0) yield current;
    bytesBefore += stream.bytesRead;
  }
}
