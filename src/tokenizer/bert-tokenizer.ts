import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS } from '../limits.ts';
import { readTokenizerJson, tokenizerJsonText } from './hf-json.ts';
import { readVocabFile } from './vocab.ts';
import { WordPieceTokenizer } from './wordpiece-tokenizer.ts';

export { decodeTokens } from './wordpiece-tokenizer.ts';

/** The WordPiece tokenizer with the file side: loading from and saving to a model folder (Node). */
export class BertTokenizer extends WordPieceTokenizer {
  /** A vocab.txt; casing from tokenizer_config.json beside it, else `opts.lowercase`, else uncased. */
  static fromVocabFile(path: string, opts: { lowercase?: boolean } = {}): BertTokenizer {
    const vocab = readVocabFile(path);
    return new BertTokenizer(vocab, resolveLowercase(join(dirname(path), 'tokenizer_config.json'), opts.lowercase));
  }

  /** A saved folder: tokenizer.json when present, else vocab.txt (+ tokenizer_config.json). */
  static fromDirectory(dir: string, opts: { lowercase?: boolean } = {}): BertTokenizer {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BertError('tokenizer directory not found', dir);
    const json = join(dir, 'tokenizer.json');
    if (existsSync(json)) {
      const tok = BertTokenizer.fromTokenizerJson(json);
      if (opts.lowercase !== undefined && opts.lowercase !== tok.lowercase) {
        throw new BertError(`asked for ${opts.lowercase ? 'lowercase' : 'cased'} but the tokenizer is ${tok.lowercase ? 'lowercase' : 'cased'}`, json);
      }
      return tok;
    }
    const vocab = join(dir, 'vocab.txt');
    if (existsSync(vocab)) return BertTokenizer.fromVocabFile(vocab, opts);
    throw new BertError('no tokenizer.json or vocab.txt in this directory', dir);
  }

  /** A Hugging Face tokenizer.json with a WordPiece model and a BertNormalizer. */
  static fromTokenizerJson(path: string): BertTokenizer {
    const { vocab, lowercase } = readTokenizerJson(path);
    return new BertTokenizer(vocab, lowercase);
  }

  /**
   * Writes vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json: the files
   * transformers' AutoTokenizer.from_pretrained(dir) reads. Each file is written atomically.
   */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const specials = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
    const config = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: this.lowercase,
      tokenize_chinese_chars: true,
      strip_accents: null,
      model_max_length: 512,
      clean_up_tokenization_spaces: true,
      ...specials,
    };
    writeFileAtomic(join(dir, 'vocab.txt'), `${this.vocab().join('\n')}\n`);
    writeFileAtomic(join(dir, 'tokenizer.json'), tokenizerJsonText(this.vocab(), this.lowercase, this.specialIds));
    writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileAtomic(join(dir, 'special_tokens_map.json'), `${JSON.stringify(specials, null, 2)}\n`);
  }
}

/** do_lower_case from a tokenizer_config.json when there is one; a flag that contradicts it is an error. */
function resolveLowercase(configPath: string, flag: boolean | undefined): boolean {
  if (!existsSync(configPath)) return flag ?? true;
  const config = readJsonFile(configPath, 'tokenizer_config.json', FILE_LIMITS['tokenizer_config.json']) as { do_lower_case?: unknown } | null;
  if (typeof config?.do_lower_case !== 'boolean') return flag ?? true;
  if (flag !== undefined && flag !== config.do_lower_case) {
    throw new BertError(`do_lower_case is ${config.do_lower_case} here, which contradicts the ${flag ? '--lowercase' : '--cased'} flag`, configPath);
  }
  return config.do_lower_case;
}

