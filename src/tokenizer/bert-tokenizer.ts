import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS } from '../limits.ts';
import { basicTokenize } from './basic.ts';
import { MAX_INPUT_CHARS_PER_WORD, readTokenizerJson, tokenizerJsonText } from './hf-json.ts';
import type { EncodeOptions, Encoding, SpecialTokenIds } from './types.ts';
import { readVocabFile, validateVocab } from './vocab.ts';
import { wordPiece, type Piece } from './wordpiece.ts';

/**
 * transformers' BertTokenizer.decode: pieces joined by spaces, `##` pieces glued to the one before,
 * then clean_up_tokenization (no space before . ? ! , and in contractions). The tokenizers binding's
 * WordPiece decoder cleans each piece alone and so leaves "isn ' t"; this matches AutoTokenizer.
 */
export function decodeTokens(tokens: string[]): string {
  return tokens
    .join(' ')
    .replace(/ ##/g, '')
    .trim()
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** One sequence's word pieces before specials, truncation and padding. */
interface Sequence {
  ids: number[];
  offsets: Array<[number, number]>;
  words: number[];
}

const WORD_CACHE_LIMIT = 200_000;

/**
 * BERT's WordPiece tokenizer, exactly as google-research/bert's FullTokenizer, with Hugging Face's
 * encoding outputs (offsets into the original string, word ids, pairs, truncation, padding).
 */
export class BertTokenizer {
  readonly lowercase: boolean;
  readonly vocabSize: number;
  readonly specialIds: SpecialTokenIds;
  private readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly maxPieceChars: number;
  private readonly cache = new Map<string, Piece[]>();

  /** `vocab[id]` is the token with that id; it must hold `[UNK]` and no duplicates. */
  constructor(vocab: readonly string[], lowercase: boolean) {
    validateVocab(vocab as string[], (id) => `id ${id}`, 'vocabulary');
    this.tokens = vocab;
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    this.lowercase = lowercase;
    this.vocabSize = vocab.length;
    let longest = 1;
    for (const t of vocab) longest = Math.max(longest, [...t].length);
    this.maxPieceChars = longest;
    const unk = this.ids.get('[UNK]')!;
    const id = (t: string): number => this.ids.get(t) ?? unk;
    this.specialIds = { pad: id('[PAD]'), unk, cls: id('[CLS]'), sep: id('[SEP]'), mask: id('[MASK]') };
  }

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

  /** Word pieces of `text`, without special tokens. */
  tokenize(text: string): string[] {
    return this.sequence(text).ids.map((id) => this.tokens[id]!);
  }

  tokenToId(token: string): number {
    return this.ids.get(token) ?? this.specialIds.unk;
  }

  idToToken(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new BertError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return token;
  }

  /** id -> token. */
  vocab(): string[] {
    return [...this.tokens];
  }

  /**
   * `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`. With `max_length`, pieces are dropped from the end of
   * the longer sequence, one at a time (from B on ties), as run_classifier.py's _truncate_seq_pair.
   */
  encode(text: string, pair?: string, opts: EncodeOptions = {}): Encoding {
    const enc = this.encodeUnpadded(text, pair, opts);
    const padding = opts.padding ?? 'none';
    if (padding === 'max_length') {
      if (opts.max_length === undefined) throw new BertError("padding 'max_length' needs max_length");
      this.pad(enc, opts.max_length);
    }
    return enc;
  }

  /** Encodes each text or pair; padding 'longest' pads all to the longest encoding of the batch. */
  encodeBatch(inputs: Array<string | [string, string]>, opts: EncodeOptions = {}): Encoding[] {
    const encs = inputs.map((input) =>
      typeof input === 'string' ? this.encodeUnpadded(input, undefined, opts) : this.encodeUnpadded(input[0], input[1], opts),
    );
    const padding = opts.padding ?? 'none';
    if (padding === 'longest') {
      const longest = Math.max(0, ...encs.map((e) => e.input_ids.length));
      for (const e of encs) this.pad(e, longest);
    } else if (padding === 'max_length') {
      if (opts.max_length === undefined) throw new BertError("padding 'max_length' needs max_length");
      for (const e of encs) this.pad(e, opts.max_length);
    }
    return encs;
  }

  /** Text from ids: `##` pieces joined to the previous piece, specials dropped when asked. */
  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const special = new Set(Object.values(this.specialIds));
    const kept = opts.skipSpecialTokens ? ids.filter((id) => !special.has(id)) : ids;
    return decodeTokens(kept.map((id) => this.idToToken(id)));
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
    writeFileAtomic(join(dir, 'vocab.txt'), `${this.tokens.join('\n')}\n`);
    writeFileAtomic(join(dir, 'tokenizer.json'), tokenizerJsonText(this.tokens, this.lowercase, this.specialIds));
    writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileAtomic(join(dir, 'special_tokens_map.json'), `${JSON.stringify(specials, null, 2)}\n`);
  }

  private sequence(text: string): Sequence {
    const seq: Sequence = { ids: [], offsets: [], words: [] };
    const words = basicTokenize(text, this.lowercase);
    for (let w = 0; w < words.length; w++) {
      const word = words[w]!;
      const key = word.chars.join('');
      let pieces = this.cache.get(key);
      if (pieces === undefined) {
        pieces = wordPiece(word.chars, this.ids, this.specialIds.unk, MAX_INPUT_CHARS_PER_WORD, this.maxPieceChars);
        if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
        this.cache.set(key, pieces);
      }
      for (const p of pieces) {
        seq.ids.push(p.id);
        seq.offsets.push([word.starts[p.from]!, word.ends[p.to - 1]!]);
        seq.words.push(w);
      }
    }
    return seq;
  }

  private encodeUnpadded(text: string, pair: string | undefined, opts: EncodeOptions): Encoding {
    const addSpecial = opts.add_special_tokens ?? true;
    const a = this.sequence(text);
    const b = pair === undefined ? undefined : this.sequence(pair);
    let la = a.ids.length;
    let lb = b?.ids.length ?? 0;
    if (opts.max_length !== undefined) {
      const reserved = addSpecial ? (b ? 3 : 2) : 0;
      const budget = opts.max_length - reserved;
      if (!Number.isInteger(opts.max_length) || budget < 0) {
        throw new BertError(`max_length ${opts.max_length} leaves no room for the ${reserved} special tokens`);
      }
      while (la + lb > budget) {
        if (la > lb) la--;
        else lb--;
      }
    }
    const enc: Encoding = { tokens: [], input_ids: [], token_type_ids: [], attention_mask: [], offsets: [], word_ids: [], sequence_ids: [] };
    const special = (id: number, type: number): void => {
      enc.input_ids.push(id);
      enc.token_type_ids.push(type);
      enc.offsets.push([0, 0]);
      enc.word_ids.push(null);
      enc.sequence_ids.push(null);
    };
    const append = (seq: Sequence, n: number, type: number): void => {
      for (let i = 0; i < n; i++) {
        enc.input_ids.push(seq.ids[i]!);
        enc.token_type_ids.push(type);
        enc.offsets.push(seq.offsets[i]!);
        enc.word_ids.push(seq.words[i]!);
        enc.sequence_ids.push(type);
      }
    };
    if (addSpecial) special(this.specialIds.cls, 0);
    append(a, la, 0);
    if (addSpecial) special(this.specialIds.sep, 0);
    if (b) {
      append(b, lb, 1);
      if (addSpecial) special(this.specialIds.sep, 1);
    }
    enc.tokens = enc.input_ids.map((id) => this.tokens[id]!);
    enc.attention_mask = enc.input_ids.map(() => 1);
    return enc;
  }

  private pad(enc: Encoding, length: number): void {
    while (enc.input_ids.length < length) {
      enc.tokens.push(this.tokens[this.specialIds.pad]!);
      enc.input_ids.push(this.specialIds.pad);
      enc.token_type_ids.push(0);
      enc.attention_mask.push(0);
      enc.offsets.push([0, 0]);
      enc.word_ids.push(null);
      enc.sequence_ids.push(null);
    }
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

