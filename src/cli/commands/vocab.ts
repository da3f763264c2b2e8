import type { Command } from 'commander';
import { trainWordPieceVocab } from '../../tokenizer/train.ts';
import { checked, positiveInt } from '../flags.ts';
import { casingFlag } from './tokenize.ts';

interface VocabFlags {
  corpus: string[];
  size: number;
  out: string;
  lowercase?: boolean;
  cased?: boolean;
  minFrequency: number;
}

export function register(program: Command): void {
  program
    .command('vocab')
    .description('train a WordPiece vocabulary on text files and save a tokenizer folder')
    .requiredOption('--corpus <files...>', 'UTF-8 text files')
    .requiredOption(...checked('--size <n>', 'vocabulary size, the 5 special tokens included', positiveInt))
    .requiredOption('--out <dir>', 'folder to write vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json')
    .option('--lowercase', 'uncased (default)')
    .option('--cased', 'keep case and accents')
    .option(...checked('--min-frequency <n>', 'least count for a character or merge to enter the vocabulary', positiveInt, 2))
    .action((flags: VocabFlags) => {
      const tok = trainWordPieceVocab(flags.corpus, {
        vocabSize: flags.size,
        minFrequency: flags.minFrequency,
        lowercase: casingFlag(flags) ?? true,
      });
      tok.save(flags.out);
      process.stdout.write(`${JSON.stringify({ out: flags.out, vocab_size: tok.vocabSize, lowercase: tok.lowercase })}\n`);
    });
}
