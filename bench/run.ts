// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), prints each
// result and writes them all as JSON to bench-results/<date>.json and bench-results/latest.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchModule {
  /** Runs the benchmark and returns plain JSON-able numbers (ratios measured in the same run). */
  run(): Promise<Record<string, unknown>>;
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model,
};
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  process.stderr.write(`bench: ${name}...\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as BenchModule;
  const result = await mod.run();
  results[name] = result;
  process.stdout.write(`${JSON.stringify({ [name]: result }, null, 2)}\n`);
}
const outDir = join(here, '..', 'bench-results');
mkdirSync(outDir, { recursive: true });
const stamp = (results.date as string).replace(/[:.]/g, '-');
writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
