import { statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { makePretrainingData, type MakeProgress } from '../../data/make.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { checked, nonNegativeInt, oneOf, positiveInt, probability } from '../flags.ts';
import { casingFlag } from './tokenize.ts';

interface Flags {
  input: string[];
  tokenizer: string;
  out: string;
  maxSeqLength: number;
  maxPredictionsPerSeq: number;
  maskedLmProb: number;
  shortSeqProb: number;
  dupeFactor: number;
  wholeWordMask?: boolean;
  splitSentences?: boolean;
  seed: number;
  format: 'shards' | 'jsonl';
  lowercase?: boolean;
  cased?: boolean;
  chunkMb: number;
}

export function register(program: Command): void {
  program
    .command('make-pretraining-data')
    .description('turn raw text (one sentence a line, blank line between documents) into masked-LM + next-sentence examples')
    .requiredOption('--input <files...>', 'text files')
    .requiredOption('--tokenizer <dir>', 'a tokenizer folder (tokenizer.json or vocab.txt), or a vocab.txt')
    .requiredOption('--out <path>', 'output: a folder of shards, or a .jsonl file with --format jsonl')
    .option(...checked('--max-seq-length <n>', 'tokens per example, [CLS] and [SEP]s included', positiveInt, 128))
    .option(...checked('--max-predictions-per-seq <n>', 'most masked positions per example', positiveInt, 20))
    .option(...checked('--masked-lm-prob <p>', 'fraction of tokens to mask', probability, 0.15))
    .option(...checked('--short-seq-prob <p>', 'probability of a shorter random target length', probability, 0.1))
    .option(...checked('--dupe-factor <n>', 'passes over the data, each masked differently', positiveInt, 5))
    .option('--whole-word-mask', 'mask whole words (a word and all its ## pieces)')
    .option('--split-sentences', 'input lines are paragraphs: split them into sentences first')
    .option(...checked('--seed <n>', 'random seed (same seed, same output bytes)', nonNegativeInt, 12345))
    .option(...checked('--format <kind>', 'shards (binary, for training) or jsonl (original BERT feature names)', oneOf(['shards', 'jsonl']), 'shards'))
    .option('--lowercase', 'uncased tokenizer (when the folder does not say)')
    .option('--cased', 'cased tokenizer (when the folder does not say)')
    .option(...checked('--chunk-mb <n>', 'text processed at a time; NotNext segments come from the same chunk', positiveInt, 32))
    .action(async (flags: Flags) => {
      const lowercase = casingFlag(flags);
      let isFile = false;
      try {
        isFile = statSync(flags.tokenizer).isFile();
      } catch {
        // fromDirectory reports a missing folder
      }
      const tokenizer = isFile ? BertTokenizer.fromVocabFile(flags.tokenizer, { lowercase }) : BertTokenizer.fromDirectory(flags.tokenizer, { lowercase });
      const bar =
        process.stderr.isTTY === true
          ? new cliProgress.SingleBar(
              { format: 'making data [{bar}] {percentage}% | {mb}/{total_mb} MB | {documents} docs | {instances} examples | ETA {eta_formatted}', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let started = false;
      const onProgress = (p: MakeProgress): void => {
        if (!bar) return;
        const payload = { mb: (p.bytes_read / 1e6).toFixed(1), total_mb: (p.total_bytes / 1e6).toFixed(1), documents: p.documents, instances: p.instances };
        if (!started) bar.start(Math.max(1, p.total_bytes), 0, payload);
        started = true;
        bar.update(p.bytes_read, payload);
      };
      try {
        const s = await makePretrainingData({
          inputs: flags.input,
          tokenizer,
          out: flags.out,
          format: flags.format,
          max_seq_length: flags.maxSeqLength,
          max_predictions_per_seq: flags.maxPredictionsPerSeq,
          masked_lm_prob: flags.maskedLmProb,
          short_seq_prob: flags.shortSeqProb,
          dupe_factor: flags.dupeFactor,
          whole_word_mask: flags.wholeWordMask === true,
          split_sentences: flags.splitSentences === true,
          seed: flags.seed,
          chunk_chars: flags.chunkMb * 1024 * 1024,
          tokenizer_info: { path: flags.tokenizer, lowercase: tokenizer.lowercase },
          onProgress,
        });
        bar?.stop();
        const mb = s.input_bytes / 1e6;
        process.stdout.write(
          `${s.documents} documents, ${s.sentences} sentences, ${s.tokens} tokens -> ${s.instances} examples ` +
            `(${((100 * s.not_next) / Math.max(1, s.instances)).toFixed(1)}% NotNext, ${s.chunks} chunk${s.chunks === 1 ? '' : 's'})\n` +
            `read ${mb.toFixed(1)} MB in ${s.seconds.toFixed(1)} s (${(mb / s.seconds).toFixed(2)} MB/s); wrote ${s.format} to ${s.out}\n`,
        );
      } finally {
        bar?.stop();
      }
    });
}
