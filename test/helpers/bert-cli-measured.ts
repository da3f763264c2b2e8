// bert-cli.ts that also writes its peak RSS (kB, from getrusage) to the file named by
// BERT_TEST_PEAK_RSS when it exits, for tests that bound what an input costs the CLI.
import { writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';

const out = process.env.BERT_TEST_PEAK_RSS;
if (out !== undefined) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
process.exitCode = await main(process.argv.slice(2));
