// Tokenizer throughput on one core: a few MB of real English text (WikiText-2 from ../shared/data),
// bert-base-uncased, encoding each line alone vs encodeBatch in batches of 32. For context, the same
// lines through Hugging Face's Rust tokenizer (the `tokenizers` binding, parallelism off).
import { readFileSync } from 'node:fs';
import { BertTokenizer } from '../src/tokenizer/index.ts';
import { hfBertTokenizer } from '../test/helpers/hf-tokenizer.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const FILES = ['wikitext-2/wiki.test.raw', 'wikitext-2/wiki.valid.tokens', 'wikitext-2/wiki.test.tokens'];
const BATCH = 32;

function rate(tokens: number, bytes: number, seconds: number): Record<string, number> {
  return { seconds: +seconds.toFixed(3), tokens_per_s: Math.round(tokens / seconds), mb_per_s: +(bytes / 1e6 / seconds).toFixed(2) };
}

export async function run(): Promise<Record<string, unknown>> {
  process.env.TOKENIZERS_PARALLELISM = 'false';
  const vocabPath = sharedData('vocab/bert-base-uncased/vocab.txt');
  const paths = FILES.map((f) => sharedData(f));
  if (vocabPath === undefined || paths.some((p) => p === undefined)) return { skipped: 'needs ../shared/data' };
  const lines = paths.flatMap((p) => readFileSync(p!, 'utf8').split('\n')).filter((l) => l.trim() !== '');
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  const fresh = (): BertTokenizer => BertTokenizer.fromVocabFile(vocabPath!, { lowercase: true });

  let tok = fresh();
  let tokens = 0;
  let t0 = performance.now();
  for (const line of lines) tokens += tok.encode(line, undefined, { add_special_tokens: false }).input_ids.length;
  const single = rate(tokens, bytes, (performance.now() - t0) / 1000);

  tok = fresh();
  t0 = performance.now();
  for (let i = 0; i < lines.length; i += BATCH) tok.encodeBatch(lines.slice(i, i + BATCH), { add_special_tokens: false, padding: 'longest' });
  const batch = rate(tokens, bytes, (performance.now() - t0) / 1000);

  const rust = hfBertTokenizer(tok.vocab(), true, tok.specialIds);
  t0 = performance.now();
  let rustTokens = 0;
  for (let i = 0; i < lines.length; i += BATCH) {
    for (const e of await rust.encodeBatch(lines.slice(i, i + BATCH), { addSpecialTokens: false })) rustTokens += e.getLength();
  }
  const rustBatch = rate(rustTokens, bytes, (performance.now() - t0) / 1000);

  return { text_mb: +(bytes / 1e6).toFixed(2), lines: lines.length, tokens, single, batch_32: batch, hf_rust_batch_32: rustBatch };
}
