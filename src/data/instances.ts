/**
 * The paper's procedure for turning documents into pre-training examples, following
 * google-research/bert create_pretraining_data.py step for step (same draws in the same order,
 * with our Rng in place of Python's `random`), but on token ids in flat arrays so a chunk of tens of
 * megabytes of text stays compact in memory.
 */
import type { Rng } from './random.ts';
import type { PretrainingExample } from './records.ts';

/**
 * A chunk of tokenized documents: sentence s is tokens[sentence_start[s] .. sentence_start[s+1]),
 * document d is sentences [document_start[d] .. document_start[d+1]). Sentences of one document are
 * contiguous, so any run of whole sentences is one slice of `tokens`.
 */
export interface DocumentChunk {
  tokens: Int32Array;
  sentence_start: Int32Array; // (num_sentences + 1)
  document_start: Int32Array; // (num_documents + 1)
}

export interface InstanceOptions {
  max_seq_length: number;
  short_seq_prob: number;
  masked_lm_prob: number;
  max_predictions_per_seq: number;
  whole_word_mask: boolean;
}

/** What masking needs to know about the vocabulary. */
export interface MaskingVocab {
  vocab_size: number;
  cls: number;
  sep: number;
  mask: number;
  /** 1 for ids whose token starts with `##` (continues the previous word). */
  is_continuation: Uint8Array;
}

export function numDocuments(chunk: DocumentChunk): number {
  return chunk.document_start.length - 1;
}

/** Creates the instances of document `d` (create_instances_from_document). */
export function createInstancesFromDocument(
  chunk: DocumentChunk,
  d: number,
  opts: InstanceOptions,
  vocab: MaskingVocab,
  rng: Rng,
): PretrainingExample[] {
  const { tokens, sentence_start: ss, document_start: ds } = chunk;
  const numDocs = numDocuments(chunk);
  if (!(Number.isInteger(d) && d >= 0 && d < numDocs)) throw new RangeError(`document ${d} out of range [0, ${numDocs})`);
  // The chunk's start arrays are ascending and end with the total, so every index below is in range.
  const docFirst = ds[d]!;
  const docEnd = ds[d + 1]!;
  const maxNumTokens = opts.max_seq_length - 3; // [CLS] A [SEP] B [SEP]
  // As in the original, one target per document: usually fill the sequence, sometimes (short_seq_prob)
  // aim shorter so pre-training also sees the short inputs fine-tuning will give.
  let target = maxNumTokens;
  if (rng.random() < opts.short_seq_prob) target = rng.randint(2, maxNumTokens);

  const out: PretrainingExample[] = [];
  let chunkFirst = docFirst; // first sentence of the current run
  let currentLength = 0;
  let i = docFirst;
  while (i < docEnd) {
    currentLength += ss[i + 1]! - ss[i]!;
    if (i === docEnd - 1 || currentLength >= target) {
      const numSentences = i - chunkFirst + 1;
      // a_end: how many sentences of the run go into A.
      const aEnd = numSentences >= 2 ? rng.randint(1, numSentences - 1) : 1;
      let aStart = ss[chunkFirst]!;
      let aStop = ss[chunkFirst + aEnd]!;
      let bStart: number;
      let bStop: number;
      let isRandomNext: boolean;
      if (numSentences === 1 || rng.random() < 0.5) {
        isRandomNext = true;
        const targetB = target - (aStop - aStart);
        // Retry a few times so B rarely comes from the same document.
        let r = 0;
        for (let t = 0; t < 10; t++) {
          r = rng.randint(0, numDocs - 1);
          if (r !== d) break;
        }
        const rFirst = ds[r]!;
        const rEnd = ds[r + 1]!;
        const rs = rng.randint(rFirst, rEnd - 1);
        bStart = ss[rs]!;
        let j = rs;
        while (j < rEnd - 1 && ss[j + 1]! - bStart < targetB) j++;
        bStop = ss[j + 1]!;
        // The sentences after A were not used: put them back for the next instance.
        i -= numSentences - aEnd;
      } else {
        isRandomNext = false;
        bStart = aStop;
        bStop = ss[i + 1]!;
      }
      // truncate_seq_pair: trim the longer side (A on ties) from a random end until it fits.
      while (aStop - aStart + (bStop - bStart) > maxNumTokens) {
        const trimA = aStop - aStart >= bStop - bStart;
        const front = rng.random() < 0.5;
        if (trimA) {
          if (front) aStart++;
          else aStop--;
        } else if (front) bStart++;
        else bStop--;
      }
      out.push(buildExample(tokens, aStart, aStop, bStart, bStop, isRandomNext, opts, vocab, rng));
      chunkFirst = i + 1;
      currentLength = 0;
    }
    i++;
  }
  return out;
}

function buildExample(
  tokens: Int32Array,
  aStart: number,
  aStop: number,
  bStart: number,
  bStop: number,
  isRandomNext: boolean,
  opts: InstanceOptions,
  vocab: MaskingVocab,
  rng: Rng,
): PretrainingExample {
  const lenA = aStop - aStart;
  const lenB = bStop - bStart;
  const n = lenA + lenB + 3;
  const input_ids = new Int32Array(n);
  const segment_ids = new Uint8Array(n);
  input_ids[0] = vocab.cls;
  input_ids.set(tokens.subarray(aStart, aStop), 1);
  input_ids[lenA + 1] = vocab.sep;
  input_ids.set(tokens.subarray(bStart, bStop), lenA + 2);
  input_ids[n - 1] = vocab.sep;
  segment_ids.fill(1, lenA + 2);
  const { masked_lm_positions, masked_lm_ids } = createMaskedLmPredictions(input_ids, opts, vocab, rng);
  return { input_ids, segment_ids, masked_lm_positions, masked_lm_ids, next_sentence_label: isRandomNext ? 1 : 0 };
}

/** Python's round(): halves go to the even neighbour (so 4.5 -> 4), which sets num_to_predict. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Masks `input_ids` in place (create_masked_lm_predictions) and returns the sorted positions and
 * the original ids there. Candidates are all non-[CLS]/[SEP] positions, or with whole-word masking
 * whole words (a piece plus the `##` pieces right after it), taken in shuffled order until
 * num_to_predict positions are covered; each chosen position independently becomes [MASK] (80%),
 * stays (10%) or becomes a uniformly random vocabulary id (10%).
 */
export function createMaskedLmPredictions(
  input_ids: Int32Array,
  opts: Pick<InstanceOptions, 'masked_lm_prob' | 'max_predictions_per_seq' | 'whole_word_mask'>,
  vocab: MaskingVocab,
  rng: Rng,
): { masked_lm_positions: Int32Array; masked_lm_ids: Int32Array } {
  const n = input_ids.length;
  // Candidate groups as [start, end) position ranges.
  const groups: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const id = input_ids[i]!;
    if (id === vocab.cls || id === vocab.sep) continue;
    const last = groups.length > 0 ? groups[groups.length - 1] : undefined;
    // Only join a piece to the word right before it: a `##` piece left at the start of B by
    // truncation must not be glued to A's last word across [SEP].
    if (opts.whole_word_mask && last !== undefined && last[1] === i && vocab.is_continuation[id] === 1) last[1] = i + 1;
    else groups.push([i, i + 1]);
  }
  const numToPredict = Math.min(opts.max_predictions_per_seq, Math.max(1, roundHalfEven(n * opts.masked_lm_prob)));
  const chosen: number[] = [];
  const original = input_ids.slice();
  // Visit groups in a uniformly random order, as the original's shuffle-then-scan does, but shuffle
  // lazily front to back (Fisher-Yates step t picks from [t, n)) so only the visited groups cost a draw.
  for (let t = 0; t < groups.length; t++) {
    if (chosen.length >= numToPredict) break;
    const j = rng.randint(t, groups.length - 1);
    const [start, end] = groups[j]!;
    groups[j] = groups[t]!;
    groups[t] = [start, end];
    // A whole word that would overshoot the budget is skipped, not cut.
    if (chosen.length + (end - start) > numToPredict) continue;
    for (let i = start; i < end; i++) {
      chosen.push(i);
      if (rng.random() < 0.8) input_ids[i] = vocab.mask;
      else if (rng.random() >= 0.5) input_ids[i] = rng.randint(0, vocab.vocab_size - 1);
      // else: keep the original token
    }
  }
  chosen.sort((x, y) => x - y);
  const masked_lm_positions = Int32Array.from(chosen);
  const masked_lm_ids = masked_lm_positions.map((p) => original[p]!);
  return { masked_lm_positions, masked_lm_ids };
}

/** masking vocabulary facts from a token list (id = index). */
export function maskingVocab(tokens: readonly string[], special: { cls: number; sep: number; mask: number }): MaskingVocab {
  const is_continuation = new Uint8Array(tokens.length);
  tokens.forEach((t, i) => {
    if (t.startsWith('##') && t.length > 2) is_continuation[i] = 1;
  });
  return { vocab_size: tokens.length, cls: special.cls, sep: special.sep, mask: special.mask, is_continuation };
}

/** A DocumentChunk from documents given as lists of sentences of token ids (for tests and small corpora). */
export function documentChunk(documents: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>): DocumentChunk {
  const sentence_start = [0];
  const document_start = [0];
  const all: number[] = [];
  for (const doc of documents) {
    for (const sentence of doc) {
      for (let i = 0; i < sentence.length; i++) all.push(sentence[i]!);
      sentence_start.push(all.length);
    }
    document_start.push(sentence_start.length - 1);
  }
  return { tokens: Int32Array.from(all), sentence_start: Int32Array.from(sentence_start), document_start: Int32Array.from(document_start) };
}
