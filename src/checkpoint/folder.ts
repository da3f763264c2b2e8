import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BertError } from '../errors.ts';
import { readJsonFile } from '../io/json.ts';
import { FILE_LIMITS } from '../limits.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { configToJson, type BertConfig } from '../model/config.ts';
import { readConfigJson } from '../model/config-file.ts';
import { normalizeState, TIED_DECODER_BIAS, TIED_DECODER_WEIGHT, TOKENIZER_FILES } from './keys.ts';

export { TOKENIZER_FILES } from './keys.ts';
import { readPytorchBin } from './pytorch-bin.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import type { FloatTensor, StoredTensor } from './tensor.ts';

// A model folder as Hugging Face's save_pretrained writes it: config.json, the weights, tokenizer files.

export interface Checkpoint {
  config: BertConfig;
  /** fp32 tensors under canonical HF names (see keys.ts); the tied MLM decoder weight is not among them. */
  tensors: Map<string, FloatTensor>;
  /** The weights file read. */
  source: string;
  /** Keys in the file that were dropped: buffers, tied copies, integer tensors. */
  ignored: string[];
}

// In Hugging Face's order of preference.
const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

/** Loads config.json and the weights of a model folder: model.safetensors if there, else pytorch_model.bin. */
export function loadCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BertError('model folder not found', dir);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new BertError('no config.json in the model folder', dir);
  const config = readConfigJson(configPath);
  const file = WEIGHT_FILES.find((f) => existsSync(join(dir, f)));
  if (file === undefined) throw new BertError(`no weights in the model folder: looked for ${WEIGHT_FILES.join(', ')}`, dir);
  const source = join(dir, file);
  const raw = file.endsWith('.index.json') ? readSharded(dir, source) : readWeights(source);
  const { tensors, ignored } = normalizeState(raw, source);
  return { config, tensors, source, ignored };
}

function readWeights(path: string): Map<string, StoredTensor> {
  return path.endsWith('.safetensors') ? readSafetensors(path).tensors : readPytorchBin(path);
}

/** A sharded checkpoint: `{ weight_map: { name: shard file } }`. */
function readSharded(dir: string, indexPath: string): Map<string, StoredTensor> {
  const index = readJsonFile(indexPath, 'shard index', FILE_LIMITS['index.json']) as { weight_map?: Record<string, unknown> } | null;
  if (index?.weight_map == null || typeof index.weight_map !== 'object' || Array.isArray(index.weight_map)) throw new BertError('shard index has no weight_map', indexPath);
  const shards = new Set(Object.values(index.weight_map));
  for (const shard of shards) {
    // A shard is a file beside the index, nothing else: no folders, no way out of the model folder.
    if (typeof shard !== 'string' || !/^[\w.-]+\.(safetensors|bin)$/.test(shard) || shard.startsWith('.')) {
      throw new BertError(`weight_map names ${JSON.stringify(shard)}, not a weights file beside the index`, indexPath);
    }
  }
  const out = new Map<string, StoredTensor>();
  for (const shard of shards as Set<string>) {
    for (const [k, t] of readWeights(join(dir, shard))) out.set(k, t);
  }
  return out;
}

export interface SaveOptions {
  /** Copy these tokenizer files from that folder (those present): vocab.txt, tokenizer.json, ... */
  tokenizerDir?: string;
}

/**
 * Writes config.json and model.safetensors (and tokenizer files) into `dir`, each atomically, creating
 * `dir` if needed. Like save_pretrained, the tied MLM decoder weight and bias are not written.
 */
export function saveCheckpoint(dir: string, config: BertConfig, tensors: ReadonlyMap<string, FloatTensor>, options: SaveOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  const weights = new Map([...tensors].filter(([name]) => name !== TIED_DECODER_WEIGHT && name !== TIED_DECODER_BIAS));
  writeSafetensors(join(dir, 'model.safetensors'), weights);
  if (options.tokenizerDir !== undefined) {
    for (const f of TOKENIZER_FILES) {
      const from = join(options.tokenizerDir, f);
      if (existsSync(from)) writeFileAtomic(join(dir, f), readFileSync(from));
    }
  }
  // config.json last: a folder with a config is a complete one.
  writeFileAtomic(join(dir, 'config.json'), configToJson(config));
}
