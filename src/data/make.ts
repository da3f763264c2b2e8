/**
 * `make-pretraining-data` as a library function: stream documents, tokenize them into chunks of
 * about `chunk_bytes` of text, turn each chunk into dupe_factor passes of masked sentence pairs,
 * shuffle the chunk's examples, write them. Memory is bounded by the chunk, not the corpus; the
 * price (as the issue accepts) is that NotNext segments and the shuffle stay within a chunk.
 */
import { BertError } from '../errors.ts';
import type { SpecialTokenIds } from '../tokenizer/types.ts';
import { availableParallelism } from 'node:os';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import { inputSize, readDocuments } from './documents.ts';
import { createInstancesFromDocument, maskingVocab, numDocuments, type DocumentChunk, type InstanceOptions } from './instances.ts';
import { JsonlWriter } from './jsonl.ts';
import { Rng } from './random.ts';
import { dtypeForVocab, encodeExample, RecordBlocks, recordLayout, type RecordLayout } from './records.ts';
import { ShardWriter } from './shards.ts';
import { tokenizeInline, tokenizeInWorkers, type TokenizedDocument } from './tokenize.ts';

/** What the data maker needs from a tokenizer (BertTokenizer satisfies it). */
export interface PretrainingTokenizer {
  tokenize(text: string): string[];
  tokenToId(token: string): number;
  idToToken(id: number): string;
  vocab(): string[];
  readonly vocabSize: number;
  readonly specialIds: SpecialTokenIds;
}

export interface MakePretrainingDataOptions extends InstanceOptions {
  inputs: string[];
  tokenizer: PretrainingTokenizer;
  /** A folder for 'shards', a file for 'jsonl'. */
  out: string;
  format: 'shards' | 'jsonl';
  dupe_factor: number;
  seed: number;
  split_sentences: boolean;
  /** Text per chunk (UTF-16 code units); default 16 Mi. */
  chunk_chars?: number;
  /** Records per shard file; default 65536. */
  shard_examples?: number;
  /**
   * Tokenizer threads. Default: one per core beyond the first (at most 4) when the tokenizer is a
   * BertTokenizer (which a worker can rebuild), else 0 (tokenize on this thread). Output is the same.
   */
  workers?: number;
  /** Recorded in index.json (e.g. the tokenizer folder and lowercasing). */
  tokenizer_info?: Record<string, unknown>;
  onProgress?: (p: MakeProgress) => void;
}

export interface MakeProgress {
  bytes_read: number;
  total_bytes: number;
  documents: number;
  instances: number;
}

export interface MakeSummary {
  documents: number;
  sentences: number;
  tokens: number;
  instances: number;
  not_next: number;
  chunks: number;
  input_bytes: number;
  seconds: number;
  out: string;
  format: 'shards' | 'jsonl';
}

const DEFAULT_CHUNK_CHARS = 16 * 1024 * 1024;

export async function makePretrainingData(opts: MakePretrainingDataOptions): Promise<MakeSummary> {
  const t0 = performance.now();
  if (opts.inputs.length === 0) throw new BertError('no input files given');
  validateOptions(opts);
  const total_bytes = inputSize(opts.inputs);
  const tok = opts.tokenizer;
  const vocabTokens = tok.vocab();
  const vocab = maskingVocab(vocabTokens, tok.specialIds);
  const layout = recordLayout(opts.max_seq_length, opts.max_predictions_per_seq, dtypeForVocab(vocabTokens.length));
  const rng = Rng.fromSeed(opts.seed);
  const chunkChars = opts.chunk_chars ?? DEFAULT_CHUNK_CHARS;
  const sink =
    opts.format === 'shards' ? new ShardWriter(opts.out, layout, vocabTokens.length, opts.shard_examples) : new JsonlWriter(opts.out, layout);
  const summary: MakeSummary = {
    documents: 0,
    sentences: 0,
    tokens: 0,
    instances: 0,
    not_next: 0,
    chunks: 0,
    input_bytes: total_bytes,
    seconds: 0,
    out: opts.out,
    format: opts.format,
  };
  let bytes_read = 0;
  const progress = (): void => opts.onProgress?.({ bytes_read, total_bytes, documents: summary.documents, instances: summary.instances });
  try {
    let builder = new ChunkBuilder();
    const flush = (): void => {
      const chunk = builder.build();
      builder = new ChunkBuilder();
      const made = instancesOfChunk(chunk, opts, layout, vocab, rng);
      sink.write(made.records, made.order);
      summary.instances += made.order.length;
      summary.tokens += chunk.tokens.length;
      summary.not_next += made.not_next;
      summary.chunks++;
      progress();
    };
    const text = readDocuments(opts.inputs, {
      onBytes: (b) => {
        bytes_read = b;
      },
    });
    const workers = opts.workers ?? (tok instanceof BertTokenizer ? Math.min(4, availableParallelism() - 1) : 0);
    if (workers > 0 && !(tok instanceof BertTokenizer)) throw new BertError('tokenizer worker threads need a BertTokenizer');
    const docs =
      workers > 0 && tok instanceof BertTokenizer
        ? tokenizeInWorkers(text, { vocab: vocabTokens, lowercase: tok.lowercase, split: opts.split_sentences }, workers, chunkChars / 2)
        : tokenizeInline(text, opts.split_sentences, tok);
    let consumed = 0;
    for await (const doc of docs) {
      if (builder.add(doc)) {
        summary.documents++;
        summary.sentences += doc.sentence_lengths.length;
      }
      // Close a chunk once it is full, unless what is left of the input is small: folding the tail
      // into this chunk keeps every chunk big enough to draw NotNext segments from.
      // (Measured by text tokenized so far, not bytes read, which runs ahead by the queued batches.)
      consumed += doc.chars;
      if (builder.chars >= chunkChars && total_bytes - consumed >= chunkChars / 2) flush();
      if (summary.documents % 1024 === 0) progress();
    }
    if (builder.documents > 0 || summary.chunks === 0) flush();
  } catch (err) {
    sink.abort();
    throw err;
  }
  summary.seconds = (performance.now() - t0) / 1000;
  const meta = {
    documents: summary.documents,
    sentences: summary.sentences,
    not_next: summary.not_next,
    chunks: summary.chunks,
    input_bytes: total_bytes,
    options: {
      max_seq_length: opts.max_seq_length,
      max_predictions_per_seq: opts.max_predictions_per_seq,
      masked_lm_prob: opts.masked_lm_prob,
      short_seq_prob: opts.short_seq_prob,
      dupe_factor: opts.dupe_factor,
      whole_word_mask: opts.whole_word_mask,
      split_sentences: opts.split_sentences,
      seed: opts.seed,
      chunk_chars: chunkChars,
    },
    tokenizer: { vocab_size: vocabTokens.length, special_ids: tok.specialIds, ...opts.tokenizer_info },
  };
  if (sink instanceof ShardWriter) sink.finish(meta);
  else sink.finish();
  return summary;
}

function validateOptions(o: MakePretrainingDataOptions): void {
  const bad = (msg: string): never => {
    throw new BertError(msg);
  };
  if (!Number.isInteger(o.max_seq_length) || o.max_seq_length < 5) bad(`--max-seq-length must be an integer >= 5, got ${o.max_seq_length}`);
  if (!Number.isInteger(o.max_predictions_per_seq) || o.max_predictions_per_seq < 1 || o.max_predictions_per_seq > o.max_seq_length) {
    bad(`--max-predictions-per-seq must be an integer in [1, max-seq-length], got ${o.max_predictions_per_seq}`);
  }
  if (!(o.masked_lm_prob > 0 && o.masked_lm_prob < 1)) bad(`--masked-lm-prob must be in (0, 1), got ${o.masked_lm_prob}`);
  if (!(o.short_seq_prob >= 0 && o.short_seq_prob <= 1)) bad(`--short-seq-prob must be in [0, 1], got ${o.short_seq_prob}`);
  if (!Number.isInteger(o.dupe_factor) || o.dupe_factor < 1) bad(`--dupe-factor must be a positive integer, got ${o.dupe_factor}`);
  if (!Number.isSafeInteger(o.seed)) bad(`--seed must be an integer, got ${o.seed}`);
}

/** Accumulates tokenized documents into the flat arrays of a DocumentChunk. */
class ChunkBuilder {
  chars = 0;
  documents = 0;
  private tokens = new Int32Array(1 << 16);
  private numTokens = 0;
  private sentenceStart: number[] = [0];
  private documentStart: number[] = [0];
  private multiSentence = false;
  /** First document of the chunk, for error messages. */
  private where: string | undefined;
  private lastWhere: string | undefined;

  /** Adds `doc`; returns false when it has no tokens (and was dropped, as the original does). */
  add(doc: TokenizedDocument): boolean {
    this.chars += doc.chars;
    const kept = doc.sentence_lengths.length;
    if (kept === 0) return false;
    if (this.numTokens + doc.ids.length > this.tokens.length) {
      const grown = new Int32Array(Math.max(this.tokens.length * 2, this.numTokens + doc.ids.length));
      grown.set(this.tokens.subarray(0, this.numTokens));
      this.tokens = grown;
    }
    this.tokens.set(doc.ids, this.numTokens);
    for (const n of doc.sentence_lengths) {
      this.numTokens += n;
      this.sentenceStart.push(this.numTokens);
    }
    this.where ??= `${doc.file}:${doc.line}`;
    this.lastWhere = doc.file;
    if (kept >= 2) this.multiSentence = true;
    this.documentStart.push(this.sentenceStart.length - 1);
    this.documents++;
    return true;
  }

  build(): DocumentChunk & { where: string | undefined; multi_sentence: boolean; last_file: string | undefined } {
    return {
      tokens: this.tokens.subarray(0, this.numTokens),
      sentence_start: Int32Array.from(this.sentenceStart),
      document_start: Int32Array.from(this.documentStart),
      where: this.where,
      multi_sentence: this.multiSentence,
      last_file: this.lastWhere,
    };
  }
}

/** All dupe passes over one chunk, as records plus the shuffled order to write them in. */
function instancesOfChunk(
  chunk: ReturnType<ChunkBuilder['build']>,
  opts: MakePretrainingDataOptions,
  layout: RecordLayout,
  vocab: ReturnType<typeof maskingVocab>,
  rng: Rng,
): { records: RecordBlocks; order: Uint32Array; not_next: number } {
  const numDocs = numDocuments(chunk);
  if (numDocs === 0) {
    throw new BertError(
      'no text in the input: expected one sentence a line, a blank line between documents',
      opts.inputs.length === 1 ? opts.inputs[0] : undefined,
    );
  }
  if (numDocs < 2) {
    throw new BertError(
      'only one document: next-sentence prediction needs at least two documents (separate documents with a blank line)',
      chunk.where,
    );
  }
  if (!chunk.multi_sentence) {
    throw new BertError(
      `all ${numDocs} documents from here on have a single sentence: next-sentence prediction needs documents of at least ` +
        'two sentences (one sentence a line; use --split-sentences for plain paragraphs)',
      chunk.where,
    );
  }
  // Shuffle documents as the original does; visiting a permutation keeps the chunk arrays intact.
  const docOrder = new Uint32Array(numDocs);
  for (let d = 0; d < numDocs; d++) docOrder[d] = d;
  rng.shuffle(docOrder);
  const records = new RecordBlocks(layout.record_bytes);
  let not_next = 0;
  for (let pass = 0; pass < opts.dupe_factor; pass++) {
    for (let k = 0; k < numDocs; k++) {
      for (const ex of createInstancesFromDocument(chunk, docOrder[k]!, opts, vocab, rng)) {
        const { buf, offset } = records.append();
        encodeExample(layout, ex, buf, offset);
        not_next += ex.next_sentence_label;
      }
    }
  }
  const count = records.size;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  rng.shuffle(order);
  return { records, order, not_next };
}
