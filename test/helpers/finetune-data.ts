// Small separable fine-tuning tasks over the tiny vocabulary (w5..w98), written as files in a temp
// folder so that the readers run too. Group A is w5..w29, group B w30..w54; seeded, so every run
// writes the same files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const A = Array.from({ length: 25 }, (_, i) => `w${i + 5}`);
const B = Array.from({ length: 25 }, (_, i) => `w${i + 30}`);
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const words = (r: () => number, group: readonly string[], n: number): string[] => Array.from({ length: n }, () => pick(r, group));

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'bert-ft-'));

/** train.EXT with n examples and dev.EXT with a quarter as many, from different seeds. */
function writeSplit(dir: string, ext: string, make: (count: number, seed: number) => string, n: number, seed: number): { train: string; dev: string } {
  const paths = { train: join(dir, `train.${ext}`), dev: join(dir, `dev.${ext}`) };
  writeFileSync(paths.train, make(n, seed));
  writeFileSync(paths.dev, make(Math.ceil(n / 4), seed + 1));
  return paths;
}

/** TSV `sentence\tlabel`: label pos when the words are from A, neg from B. */
export function classificationFiles(dir: string, n: number, seed: number): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const lines = ['sentence\tlabel'];
    for (let i = 0; i < count; i++) {
      const a = r() < 0.5;
      lines.push(`${words(r, a ? A : B, 3 + Math.floor(r() * 6)).join(' ')}\t${a ? 'pos' : 'neg'}`);
    }
    return `${lines.join('\n')}\n`;
  };
  return writeSplit(dir, 'tsv', make, n, seed);
}

/** CSV with text_a, text_b, label: yes when both texts are made of A words (each text is all A or all B). */
export function pairFiles(dir: string, n: number, seed: number): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const lines = ['text_a,text_b,label'];
    for (let i = 0; i < count; i++) {
      const a = r() < 0.7;
      const b = r() < 0.7;
      lines.push(`${words(r, a ? A : B, 3).join(' ')},${words(r, b ? A : B, 3).join(' ')},${a && b ? 'yes' : 'no'}`);
    }
    return `${lines.join('\n')}\n`;
  };
  return writeSplit(dir, 'csv', make, n, seed);
}

/** JSONL {text, score}: score = the fraction of the 6 words taken from group A. */
export function regressionFiles(dir: string, n: number, seed: number): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const k = Math.floor(r() * 7);
      const ws = [...words(r, A, k), ...words(r, B, 6 - k)].sort(() => r() - 0.5);
      lines.push(JSON.stringify({ text: ws.join(' '), score: k / 6 }));
    }
    return `${lines.join('\n')}\n`;
  };
  return writeSplit(dir, 'jsonl', make, n, seed);
}

/** CoNLL `word tag`: words of A are one-word PER entities (B-PER), words of B are O. */
export function conllFiles(dir: string, n: number, seed: number): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const blocks: string[] = [];
    for (let i = 0; i < count; i++) {
      const len = 3 + Math.floor(r() * 6);
      blocks.push(Array.from({ length: len }, () => (r() < 0.3 ? `${pick(r, A)}\tB-PER` : `${pick(r, B)}\tO`)).join('\n'));
    }
    return `${blocks.join('\n\n')}\n`;
  };
  return writeSplit(dir, 'conll', make, n, seed);
}

/**
 * SQuAD JSON: the answer is the word right after the marker w98 in a context of B words. With
 * `v2`, about a third of the contexts have no marker and their question no answer (is_impossible).
 */
export function squadFiles(dir: string, n: number, seed: number, v2 = false): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const paragraphs = [];
    for (let i = 0; i < count; i++) {
      const ws = words(r, B, 6 + Math.floor(r() * 8));
      const id = `q${s}-${i}`;
      if (v2 && r() < 0.33) {
        paragraphs.push({ context: ws.join(' '), qas: [{ id, question: 'w97 w96', answers: [], is_impossible: true }] });
        continue;
      }
      const at = Math.floor(r() * (ws.length - 1));
      ws[at] = 'w98';
      ws[at + 1] = pick(r, A);
      const context = ws.join(' ');
      const answer_start = ws.slice(0, at + 1).join(' ').length + 1;
      paragraphs.push({ context, qas: [{ id, question: 'w97 w96', answers: [{ text: ws[at + 1], answer_start }], ...(v2 ? { is_impossible: false } : {}) }] });
    }
    return JSON.stringify({ version: v2 ? 'v2.0' : '1.1', data: [{ title: 'synthetic', paragraphs }] });
  };
  return writeSplit(dir, 'json', make, n, seed);
}

/** SWAG CSV with 4 endings: the right one is the only ending made of A words. */
export function swagFiles(dir: string, n: number, seed: number): { train: string; dev: string } {
  const make = (count: number, s: number) => {
    const r = rng(s);
    const lines = ['sent1,sent2,ending0,ending1,ending2,ending3,label'];
    for (let i = 0; i < count; i++) {
      const label = Math.floor(r() * 4);
      const endings = Array.from({ length: 4 }, (_, k) => words(r, k === label ? A : B, 2).join(' '));
      lines.push([words(r, B, 3).join(' '), 'w96', ...endings, label].join(','));
    }
    return `${lines.join('\n')}\n`;
  };
  return writeSplit(dir, 'csv', make, n, seed);
}
