// A model folder around fixtures/bert-tiny (random weights from the PyTorch fixture) with a 99-token
// vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK] then w5..w98, so "w17" is id 17.
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../../src/checkpoint/folder.ts';
import type { FloatTensor } from '../../src/checkpoint/tensor.ts';
import { configFromJson, type BertConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/init.ts';
import { BertTokenizer } from '../../src/tokenizer/bert-tokenizer.ts';

export const FIXTURE = new URL('../../fixtures/bert-tiny/', import.meta.url).pathname;
export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 94 }, (_, i) => `w${i + 5}`)];

export function tinyTokenizer(): BertTokenizer {
  return new BertTokenizer(TINY_VOCAB, true);
}

/** fixtures/bert-tiny (BertForPreTraining) plus tokenizer files, in a fresh temp folder. */
export function tinyModelFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bert-tiny-'));
  copyFileSync(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(FIXTURE, 'model.safetensors'), join(dir, 'model.safetensors'));
  tinyTokenizer().save(dir);
  return dir;
}

export function tinyConfig(): BertConfig {
  return configFromJson(JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')));
}

/** The tiny encoder with a seeded random head saved as `architecture` (e.g. BertForSequenceClassification). */
export function tinyHeadFolder(encoder: ReadonlyMap<string, FloatTensor>, architecture: string, head: Record<string, number[]>, labels?: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'bert-tiny-head-'));
  const config: BertConfig = { ...tinyConfig(), architectures: [architecture] };
  if (labels) {
    config.id2label = Object.fromEntries(labels.map((l, i) => [i, l]));
    config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  }
  const tensors = new Map([...encoder].filter(([k]) => k.startsWith('bert.') && !(architecture !== 'BertForSequenceClassification' && k.startsWith('bert.pooler'))));
  for (const [k, t] of initParams(new Map(Object.entries(head)), config, 7)) tensors.set(k, t);
  // Non-zero biases, so a test would notice a bias left out.
  for (const [k, t] of tensors) if (k in head && k.endsWith('.bias')) t.data.forEach((_, i) => (t.data[i] = 0.01 * (i + 1)));
  saveCheckpoint(dir, config, tensors);
  tinyTokenizer().save(dir);
  return dir;
}
