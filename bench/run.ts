// `npm run bench`: runs every bench/*.bench.ts (or those whose names start with the arguments), prints
// each result and writes them as JSON to bench-results/<date>.json and into bench-results/latest.json.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
// latest.json keeps the newest result of every benchmark, each with the date it was measured, so a
// run of one benchmark does not erase the others.
const latestPath = join(outDir, 'latest.json');
const latest = (existsSync(latestPath) ? JSON.parse(readFileSync(latestPath, 'utf8')) : {}) as Record<string, unknown>;
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  latest[name] = { date: results.date, node: results.node, cpus: results.cpus, cpu_model: results.cpu_model, ...(results[name] as object) };
}
writeFileSync(latestPath, `${JSON.stringify(latest, null, 2)}\n`);
