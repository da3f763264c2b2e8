// A BERT model folder opened in the browser (files by name, as bytes): config.json, model.safetensors,
// and vocab.txt or tokenizer.json. Parsed with the library's file-free pieces.
import { TOKENIZER_FILES, normalizeState } from '../../src/checkpoint/keys.ts';
import { parseSafetensors } from '../../src/checkpoint/safetensors-format.ts';
import type { FloatTensor } from '../../src/checkpoint/tensor.ts';
import { BertError } from '../../src/errors.ts';
import { parseConfigJson, type BertConfig } from '../../src/model/config.ts';
import { parseTokenizerJson } from '../../src/tokenizer/tokenizer-json.ts';
import { parseVocab } from '../../src/tokenizer/vocab-text.ts';
import { WordPieceTokenizer } from '../../src/tokenizer/wordpiece-tokenizer.ts';

export interface ModelFolder {
  config: BertConfig;
  tensors: Map<string, FloatTensor>;
  tokenizer: WordPieceTokenizer;
  /** The tokenizer files as opened, copied unchanged into a downloaded model. */
  tokenizerFiles: Map<string, Uint8Array>;
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The folder's model; a missing or bad file is a BertError naming it. */
export function openModelFolder(files: ReadonlyMap<string, Uint8Array>): ModelFolder {
  const need = (name: string, what: string): Uint8Array => {
    const f = files.get(name);
    if (f === undefined) throw new BertError(`no ${name} among the opened files (${[...files.keys()].join(', ') || 'none'}): ${what}`);
    return f;
  };
  const config = parseConfigJson(text(need('config.json', 'open a Hugging Face or bert-ts model folder')), 'config.json');
  if (!files.has('model.safetensors') && files.has('pytorch_model.bin')) {
    throw new BertError('this page reads model.safetensors only; convert pytorch_model.bin with `bert convert` or transformers first', 'pytorch_model.bin');
  }
  const raw = parseSafetensors(need('model.safetensors', 'the weights'), 'model.safetensors');
  const { tensors } = normalizeState(raw.tensors, 'model.safetensors');
  const tokenizer = openTokenizer(files);
  if (tokenizer.vocabSize !== config.vocab_size) {
    throw new BertError(`the tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocab_size}`);
  }
  const tokenizerFiles = new Map([...files].filter(([name]) => TOKENIZER_FILES.includes(name)));
  return { config, tensors, tokenizer, tokenizerFiles };
}

/** tokenizer.json when present, else vocab.txt with do_lower_case from tokenizer_config.json (default lowercase). */
function openTokenizer(files: ReadonlyMap<string, Uint8Array>): WordPieceTokenizer {
  const json = files.get('tokenizer.json');
  if (json !== undefined) {
    const { vocab, lowercase } = parseTokenizerJson(text(json), 'tokenizer.json');
    return new WordPieceTokenizer(vocab, lowercase);
  }
  const vocab = files.get('vocab.txt');
  if (vocab === undefined) throw new BertError('no tokenizer.json or vocab.txt among the opened files');
  let lowercase = true;
  const cfg = files.get('tokenizer_config.json');
  if (cfg !== undefined) {
    try {
      const v = (JSON.parse(text(cfg)) as { do_lower_case?: unknown }).do_lower_case;
      if (typeof v === 'boolean') lowercase = v;
    } catch (err) {
      throw new BertError(`not valid JSON (${(err as Error).message})`, 'tokenizer_config.json');
    }
  }
  return new WordPieceTokenizer(parseVocab(vocab, 'vocab.txt'), lowercase);
}
