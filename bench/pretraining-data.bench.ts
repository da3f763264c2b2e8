// Data-making throughput (MB of text in per second) and peak memory: WikiText-2 (articles as
// documents, paragraphs split into sentences) + BERT's sample_text, repeated to ~TARGET_MB, through
// make-pretraining-data with bert-base-uncased, defaults (seq 128, 20 predictions, dupe 5), shards.
// It runs in a process of its own, so its peak memory is its own and not the benchmarks' before it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePretrainingData } from '../src/data/make.ts';
import { BertTokenizer } from '../src/tokenizer/index.ts';
import { sharedData } from '../test/helpers/shared-data.ts';
import { peakRssMb } from './peak-rss.ts';

const TARGET_MB = 24;

/**
 * WikiText raw files have one paragraph a line and no blank lines; an article starts at a
 * top-level heading " = Title = ". We make each article a document (headings dropped) with its
 * paragraphs as lines, to be sentence-split, in the one-document-per-blank-line format.
 */
export function wikitextDocuments(raw: string): string[] {
  const docs: string[] = [];
  let current: string[] = [];
  for (const line of raw.split(/\r?\n/)) {
    const t = line.trim();
    if (/^= [^=].*[^=] =$/.test(t)) {
      if (current.length > 0) docs.push(current.join('\n'));
      current = [];
    } else if (t && !t.startsWith('=')) current.push(t);
  }
  if (current.length > 0) docs.push(current.join('\n'));
  return docs;
}

export async function run(): Promise<Record<string, unknown>> {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`pretraining-data bench failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function measure(): Promise<Record<string, unknown>> {
  const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
  const wiki = ['wikitext-2/wiki.test.raw', 'wikitext-2/wiki.valid.tokens'].map((f) => sharedData(f));
  const sample = sharedData('bert_sample_text/sample_text.txt');
  if (!vocab || !sample || wiki.some((p) => p === undefined)) return { skipped: 'needs ../shared/data' };
  const docs = wiki.flatMap((p) => wikitextDocuments(readFileSync(p!, 'utf8')));
  const once = `${docs.join('\n\n')}\n\n${readFileSync(sample, 'utf8').trim()}\n\n`;
  const repeats = Math.ceil((TARGET_MB * 1e6) / Buffer.byteLength(once));
  const dir = mkdtempSync(join(tmpdir(), 'bert-ptd-bench-'));
  try {
    const input = join(dir, 'corpus.txt');
    writeFileSync(input, once.repeat(repeats));
    const tokenizer = BertTokenizer.fromVocabFile(vocab, { lowercase: true });
    const s = await makePretrainingData({
      inputs: [input],
      tokenizer,
      out: join(dir, 'shards'),
      format: 'shards',
      max_seq_length: 128,
      max_predictions_per_seq: 20,
      masked_lm_prob: 0.15,
      short_seq_prob: 0.1,
      dupe_factor: 5,
      whole_word_mask: false,
      seed: 12345,
      split_sentences: true,
    });
    return {
      input_mb: +(s.input_bytes / 1e6).toFixed(1),
      documents: s.documents,
      tokens: s.tokens,
      examples: s.instances,
      chunks: s.chunks,
      seconds: +s.seconds.toFixed(1),
      mb_per_s: +(s.input_bytes / 1e6 / s.seconds).toFixed(2),
      examples_per_s: Math.round(s.instances / s.seconds),
      peak_rss_mb: peakRssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) console.log(JSON.stringify(await measure()));
