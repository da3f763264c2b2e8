// The limits every reader of an outside file checks before it allocates. A model folder is often
// downloaded from strangers: reading one must cost memory and time in proportion to what is really
// in it, and a file that claims more is refused at once, in one line naming the file and the limit.
// Each limit is far above what real BERT files need (the real value is in the comment). No file
// access here (the browser build shares these limits): the size check is in io/file-size.ts.
import { BertError } from './errors.ts';

const MiB = 1024 * 1024;

/** Largest file each reader accepts, in bytes. */
export const FILE_LIMITS = {
  /** bert-base's is 570 bytes; a config with 100k labels is a few MB. */
  'config.json': 16 * MiB,
  /** bert-base-multilingual's (120k tokens) is 1 MB. */
  'vocab.txt': 64 * MiB,
  /** bert-base-multilingual's is 2.9 MB; 16 MiB hold about a million tokens (the vocabulary limit). */
  'tokenizer.json': 16 * MiB,
  /** A few hundred bytes; chat templates make some a few hundred KB. */
  'tokenizer_config.json': 16 * MiB,
  /** A shard index.json lists one line per 65536 examples. */
  'index.json': 64 * MiB,
  /** Task files (TSV, CSV, JSONL, CoNLL, SQuAD JSON) are read whole (MNLI's train.tsv: 80 MB). */
  task: 256 * MiB,
} as const;

/** Limits inside files, beside the file sizes. */
export const LIMITS = {
  /** Deepest JSON nesting a config or tokenizer file may have (real ones: 4); JSON.stringify recurses. */
  jsonDepth: 64,
  /** Largest inflated size of a torch.save data.pkl (bert-large's: 40 KB). */
  pickleBytes: 64 * MiB,
  /** Most values on the unpickler's stack and memo at once (a state dict's SETITEMS batch: 1000). */
  pickleStack: 1 << 20,
  /** Deepest nesting of tuples, lists and dicts in a pickle (a state dict's: 4). */
  pickleDepth: 64,
  /** A deflated zip entry may inflate to this many times its compressed size (weights: about 1.1). */
  inflateRatio: 64,
  /** ... or to this size whatever its ratio (small tensors of zeros compress much better). */
  inflateFloor: 1 * MiB,
  /** Longest line (in characters) of a pre-training JSONL file (max_seq_length 512: about 10 K; 65535: 4.3 M). */
  jsonlLineChars: 8 * MiB,
  /** Longest line of a text corpus or of stdin, in bytes or characters (a paragraph: a few KB). */
  textLine: 64 * MiB,
  /** Most tokens in a vocabulary (bert-base-multilingual: 120k; the largest WordPiece ones: 250k). */
  vocabTokens: 1 << 20,
  /** Most rows (lines) of a task file (MNLI's train set: 393k). */
  taskRows: 1 << 21,
  /** Most columns in one row of a TSV or CSV task file (GLUE's widest: 12). */
  taskColumns: 4096,
  /** Most shards one index.json may list (each holds one open file; 65536 examples each). */
  shards: 4096,
} as const;

export function formatBytes(n: number): string {
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * How deeply the JSON `text` nests (`1` is 0, `[]` is 1), read from its brackets outside strings in
 * one pass over the characters, before parsing: a deep document costs nothing to refuse, and a wide
 * one (a million vocabulary entries) is not walked twice. Stops as soon as `limit` is passed.
 */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Throws a BertError when the JSON `text` nests deeper than LIMITS.jsonDepth. */
export function checkJsonDepth(text: string, where: string): void {
  if (jsonTextDepth(text, LIMITS.jsonDepth) > LIMITS.jsonDepth) {
    throw new BertError(`JSON nests deeper than the limit of ${LIMITS.jsonDepth} levels`, where);
  }
}
