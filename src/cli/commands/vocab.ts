import type { Command } from 'commander';
import { trainWordPieceVocab } from '../../tokenizer/train.ts';
import { positiveInt } from '../flags.ts';
import { casingFlag } from './tokenize.ts';

interface VocabFlags {
  corpus: string[];
  size: string;
  out: string;
  lowercase?: boolean;
  cased?: boolean;
  minFrequency?: string;
}

export function register(program: Command): void {
  program
    .command('vocab')
    .description('train a WordPiece vocabulary on text files and save a tokenizer folder')
    .requiredOption('--corpus <files...>', 'UTF-8 text files')
    .requiredOption('--size <n>', 'vocabulary size, the 5 special tokens included')
    .requiredOption('--out <dir>', 'folder to write vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json')
    .option('--lowercase', 'uncased (default)')
    .option('--cased', 'keep case and accents')
    .option('--min-frequency <n>', 'least count for a character or merge to enter the vocabulary', '2')
    .action((flags: VocabFlags) => {
      const tok = trainWordPieceVocab(flags.corpus, {
        vocabSize: positiveInt(flags.size, '--size'),
        minFrequency: positiveInt(flags.minFrequency ?? '2', '--min-frequency'),
        lowercase: casingFlag(flags) ?? true,
      });
      tok.save(flags.out);
      process.stdout.write(`${JSON.stringify({ out: flags.out, vocab_size: tok.vocabSize, lowercase: tok.lowercase })}\n`);
    });
}
