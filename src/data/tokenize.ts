/**
 * The tokenization stage of data making: documents of text lines in, documents of token ids out.
 * It runs inline, or for a BertTokenizer in a pool of worker threads (the costliest stage, and
 * the only one that is independent per document), giving identical output either way.
 */
import type { Worker } from 'node:worker_threads';
import { BertError } from '../errors.ts';
import type { TextDocument } from './documents.ts';
import { splitSentences } from './sentences.ts';
import { startWorker } from './worker.ts';

/** What tokenization needs: word pieces and their ids. */
export interface PieceTokenizer {
  tokenize(text: string): string[];
  tokenToId(token: string): number;
}

export interface TokenizedDocument {
  /** All token ids of the document's non-empty sentences, in order. */
  ids: Int32Array;
  /** Token count of each non-empty sentence (a sentence with no tokens is dropped, as the original does). */
  sentence_lengths: Int32Array;
  /** Characters of text consumed, for chunk sizing. */
  chars: number;
  file: string;
  line: number;
}

export function tokenizeDocument(lines: readonly string[], split: boolean, tok: PieceTokenizer): Omit<TokenizedDocument, 'file' | 'line'> {
  const ids: number[] = [];
  const lengths: number[] = [];
  let chars = 0;
  for (const line of lines) {
    chars += line.length + 1;
    for (const sentence of split ? splitSentences(line) : [line]) {
      const before = ids.length;
      for (const piece of tok.tokenize(sentence)) ids.push(tok.tokenToId(piece));
      if (ids.length > before) lengths.push(ids.length - before);
    }
  }
  return { ids: Int32Array.from(ids), sentence_lengths: Int32Array.from(lengths), chars };
}

export async function* tokenizeInline(docs: AsyncIterable<TextDocument>, split: boolean, tok: PieceTokenizer): AsyncGenerator<TokenizedDocument> {
  for await (const doc of docs) yield { ...tokenizeDocument(doc.sentences, split, tok), file: doc.file, line: doc.line };
}

export interface TokenizeWorkerInit {
  vocab: string[];
  lowercase: boolean;
  split: boolean;
}

type Reply = { seq: number; docs: Array<Omit<TokenizedDocument, 'file' | 'line'>> } | { seq: number; error: string };

/**
 * Tokenizes in `numWorkers` threads, batches of about `batchChars` characters, and keeps up to
 * `inFlightChars` of text queued so the workers stay busy while the consumer is making examples.
 * Documents come out in input order.
 */
export async function* tokenizeInWorkers(
  docs: AsyncIterable<TextDocument>,
  init: TokenizeWorkerInit,
  numWorkers: number,
  inFlightChars: number,
  batchChars = 1 << 18,
): AsyncGenerator<TokenizedDocument> {
  const workers: Worker[] = [];
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  for (let w = 0; w < numWorkers; w++) {
    const worker = startWorker('tokenize-worker', init);
    worker.on('message', (r: Reply) => {
      pending.get(r.seq)?.resolve(r);
      pending.delete(r.seq);
    });
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    workers.push(worker);
  }
  const queue: Array<{ where: TextDocument[]; reply: Promise<Reply>; chars: number }> = [];
  let queuedChars = 0;
  let seq = 0;
  let batch: TextDocument[] = [];
  let batchSize = 0;
  const dispatch = (): void => {
    const s = seq++;
    const reply = new Promise<Reply>((resolve, reject) => pending.set(s, { resolve, reject }));
    workers[s % workers.length]!.postMessage({ seq: s, docs: batch.map((d) => d.sentences) });
    queue.push({ where: batch, reply, chars: batchSize });
    queuedChars += batchSize;
    batch = [];
    batchSize = 0;
  };
  async function* drainOne(): AsyncGenerator<TokenizedDocument> {
    const head = queue.shift()!;
    queuedChars -= head.chars;
    const r = await head.reply;
    if ('error' in r) throw new BertError(`tokenization failed: ${r.error}`, `${head.where[0]!.file}:${head.where[0]!.line}`);
    for (let i = 0; i < r.docs.length; i++) yield { ...r.docs[i]!, file: head.where[i]!.file, line: head.where[i]!.line };
  }
  try {
    for await (const doc of docs) {
      batch.push(doc);
      for (const s of doc.sentences) batchSize += s.length + 1;
      if (batchSize >= batchChars) dispatch();
      while (queuedChars > inFlightChars) yield* drainOne();
    }
    if (batch.length > 0) dispatch();
    while (queue.length > 0) yield* drainOne();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
