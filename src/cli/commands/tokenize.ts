import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { BertTokenizer } from '../../tokenizer/bert-tokenizer.ts';
import { utf8Lines } from '../../tokenizer/lines.ts';
import type { EncodeOptions } from '../../tokenizer/types.ts';
import { checked, positiveInt } from '../flags.ts';

interface TokenizeFlags {
  vocab?: string;
  tokenizer?: string;
  lowercase?: boolean;
  cased?: boolean;
  pair?: string;
  maxLength?: number;
}

/** `--lowercase` / `--cased` as a tri-state: undefined lets the tokenizer files decide. */
export function casingFlag(flags: { lowercase?: boolean; cased?: boolean }): boolean | undefined {
  if (flags.lowercase && flags.cased) throw new BertError('--lowercase and --cased contradict each other');
  return flags.lowercase ? true : flags.cased ? false : undefined;
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description('WordPiece-tokenize TEXT (or each line of stdin when TEXT is -) and print JSON encodings')
    .argument('<text>', 'text to encode, or - to read lines from stdin (one JSON line out per line in)')
    .option('--vocab <file>', 'a BERT vocab.txt')
    .option('--tokenizer <dir>', 'a folder with tokenizer.json or vocab.txt')
    .option('--lowercase', 'uncased: lowercase and strip accents')
    .option('--cased', 'cased: keep case and accents')
    .option('--pair <text>', 'second sequence: [CLS] TEXT [SEP] PAIR [SEP]')
    .option(...checked('--max-length <n>', 'truncate (longest first) to at most n tokens, specials included', positiveInt))
    .action(async (text: string, flags: TokenizeFlags) => {
      if ((flags.vocab === undefined) === (flags.tokenizer === undefined)) {
        throw new BertError('give exactly one of --vocab FILE or --tokenizer DIR');
      }
      const lowercase = casingFlag(flags);
      const tok =
        flags.vocab !== undefined
          ? BertTokenizer.fromVocabFile(flags.vocab, { lowercase })
          : BertTokenizer.fromDirectory(flags.tokenizer!, { lowercase });
      const opts: EncodeOptions = flags.maxLength === undefined ? {} : { max_length: flags.maxLength };
      const line = (t: string): string => {
        const e = tok.encode(t, flags.pair, opts);
        const out = { tokens: e.tokens, input_ids: e.input_ids, token_type_ids: e.token_type_ids, attention_mask: e.attention_mask, offsets: e.offsets };
        return `${JSON.stringify(out)}\n`;
      };
      if (text !== '-') {
        process.stdout.write(line(text));
        return;
      }
      for await (const t of utf8Lines(process.stdin, 'stdin')) {
        if (!process.stdout.write(line(t))) await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
    });
}
