// Splits a SQuAD file by article into a training part and a held-out part (no question crosses),
// for the README's small SQuAD run: SQuAD's train set is not in ../shared/data, its dev set is.
// Usage: node --import tsx scripts/split-squad.ts IN.json TRAIN_ARTICLES OUT_TRAIN.json OUT_DEV.json
import { readFileSync, writeFileSync } from 'node:fs';

const [input, count, trainOut, devOut] = process.argv.slice(2);
if (!input || !count || !trainOut || !devOut) throw new Error('usage: split-squad.ts IN.json TRAIN_ARTICLES OUT_TRAIN.json OUT_DEV.json');
const squad = JSON.parse(readFileSync(input, 'utf8')) as { version: string; data: unknown[] };
const n = Number(count);
writeFileSync(trainOut, JSON.stringify({ version: squad.version, data: squad.data.slice(0, n) }));
writeFileSync(devOut, JSON.stringify({ version: squad.version, data: squad.data.slice(n) }));
process.stdout.write(`${n} articles -> ${trainOut}, ${squad.data.length - n} -> ${devOut}\n`);
