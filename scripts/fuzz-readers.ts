// The long run of the reader fuzzer (test/helpers/reader-fuzz.ts): every reader in turn, batches of
// 50 fast-check cases from successive seeds, for --minutes; a watchdog restarts the worker that runs
// them if one case hangs for --hang-s. Writes a JSON summary (cases per reader, refusals, slowest
// case, largest peak RSS growth, every distinct failure with the seed and index that reproduce it)
// to --out every 30 s and at the end.
//   node --import tsx scripts/fuzz-readers.ts --minutes 30 --out fuzz-readers.json
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { FuzzViolation, fuzzRoot, fuzzTargets, mutationsArb, runCase, type Mutation } from '../test/helpers/reader-fuzz.ts';

const BATCH = 50;

interface ReaderStats {
  cases: number;
  values: number;
  refusals: number;
  violations: number;
  max_ms: number;
  max_peak_growth_kb: number;
}

interface Failure {
  reader: string;
  seed: number;
  index: number;
  mutations: Mutation[];
  message: string;
}

type FromWorker = { kind: 'stats'; stats: Record<string, ReaderStats> } | { kind: 'failure'; failure: Failure };

interface WorkerInput {
  firstBatch: number;
  baseSeed: number;
  /** [batch number, index in batch, cases done], written before each case for the watchdog. */
  heartbeat: SharedArrayBuffer;
}

function casesOf(seed: number): Mutation[][] {
  return fc.sample(mutationsArb, { seed, numRuns: BATCH });
}

function workerLoop({ firstBatch, baseSeed, heartbeat }: WorkerInput): void {
  const beat = new Int32Array(heartbeat);
  const targets = Object.entries(fuzzTargets());
  const root = fuzzRoot();
  const stats: Record<string, ReaderStats> = {};
  let lastPost = Date.now();
  for (let batch = firstBatch; ; batch++) {
    const [name, target] = targets[batch % targets.length]!;
    const s = (stats[name] ??= { cases: 0, values: 0, refusals: 0, violations: 0, max_ms: 0, max_peak_growth_kb: 0 });
    const seed = baseSeed + batch;
    casesOf(seed).forEach((mutations, index) => {
      Atomics.store(beat, 0, batch);
      Atomics.store(beat, 1, index);
      Atomics.add(beat, 2, 1);
      s.cases++;
      try {
        const r = runCase(target, mutations, root);
        if (r.outcome === 'value') s.values++;
        else s.refusals++;
        s.max_ms = Math.max(s.max_ms, Math.round(r.ms));
        s.max_peak_growth_kb = Math.max(s.max_peak_growth_kb, r.peakGrowthKb);
      } catch (err) {
        s.violations++;
        const message = err instanceof FuzzViolation ? err.message : `harness: ${String(err)}`;
        parentPort!.postMessage({ kind: 'failure', failure: { reader: name, seed, index, mutations, message: message.slice(0, 2000) } } satisfies FromWorker);
      }
    });
    if (Date.now() - lastPost > 2000) {
      parentPort!.postMessage({ kind: 'stats', stats } satisfies FromWorker);
      for (const k of Object.keys(stats)) delete stats[k];
      lastPost = Date.now();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      out: { type: 'string', default: 'fuzz-readers.json' },
      seed: { type: 'string', default: '1000' },
      'hang-s': { type: 'string', default: '60' },
    },
  });
  const minutes = Number(values.minutes);
  const baseSeed = Number(values.seed);
  const hangMs = Number(values['hang-s']) * 1000;
  const started = Date.now();
  const totals: Record<string, ReaderStats> = {};
  const failures: Failure[] = [];
  const distinct = new Map<string, number>();
  const heartbeat = new SharedArrayBuffer(12);
  const beat = new Int32Array(heartbeat);
  const targetNames = Object.keys(fuzzTargets());

  const record = (f: Failure): void => {
    // Same reader, same message once numbers and temp paths are blanked: one finding.
    const key = `${f.reader}|${f.message.replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 200)}`;
    distinct.set(key, (distinct.get(key) ?? 0) + 1);
    if (distinct.get(key) === 1) failures.push(f);
  };
  const summary = () => {
    const sum = (k: keyof ReaderStats) => Object.values(totals).reduce((a, s) => a + s[k], 0);
    return {
      started: new Date(started).toISOString(),
      minutes_run: +((Date.now() - started) / 60000).toFixed(2),
      base_seed: baseSeed,
      cases: sum('cases'),
      violations: sum('violations'),
      distinct_failures: failures.length,
      readers: totals,
      failures: failures.map((f) => ({ ...f, occurrences: distinct.get(`${f.reader}|${f.message.replace(/\/tmp\/\S+/g, 'PATH').replace(/\d+/g, 'N').slice(0, 200)}`) })),
    };
  };
  const write = () => writeFileSync(values.out, `${JSON.stringify(summary(), null, 2)}\n`);

  let nextBatch = 0;
  const start = (): Worker => {
    Atomics.store(beat, 0, nextBatch);
    // tsx's hooks do not reach worker threads on Node 20: the worker loads this file through tsImport.
    const api = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`;
    const w = new Worker(code, { eval: true, workerData: { firstBatch: nextBatch, baseSeed, heartbeat } satisfies WorkerInput });
    w.on('message', (m: FromWorker) => {
      if (m.kind === 'failure') record(m.failure);
      else {
        for (const [name, s] of Object.entries(m.stats)) {
          const t = (totals[name] ??= { cases: 0, values: 0, refusals: 0, violations: 0, max_ms: 0, max_peak_growth_kb: 0 });
          t.cases += s.cases;
          t.values += s.values;
          t.refusals += s.refusals;
          t.violations += s.violations;
          t.max_ms = Math.max(t.max_ms, s.max_ms);
          t.max_peak_growth_kb = Math.max(t.max_peak_growth_kb, s.max_peak_growth_kb);
        }
      }
    });
    w.on('error', (err) => record({ reader: 'worker', seed: -1, index: -1, mutations: [], message: `worker crashed: ${err.stack ?? String(err)}` }));
    return w;
  };

  let worker = start();
  let lastCount = Atomics.load(beat, 2);
  let lastChange = Date.now();
  let lastWrite = Date.now();
  const deadline = started + minutes * 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const count = Atomics.load(beat, 2);
    if (count !== lastCount) {
      lastCount = count;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > hangMs) {
      const batch = Atomics.load(beat, 0);
      const index = Atomics.load(beat, 1);
      const reader = targetNames[batch % targetNames.length]!;
      record({ reader, seed: baseSeed + batch, index, mutations: casesOf(baseSeed + batch)[index]!, message: `hang: no answer within ${hangMs / 1000} s` });
      await worker.terminate();
      nextBatch = batch + 1;
      worker = start();
      lastChange = Date.now();
    }
    if (Date.now() - lastWrite > 30_000) {
      write();
      lastWrite = Date.now();
    }
  }
  // Let the worker post its last stats, then stop it.
  await new Promise((r) => setTimeout(r, 2500));
  await worker.terminate();
  write();
  const s = summary();
  process.stdout.write(`fuzz-readers: ${s.cases} cases in ${s.minutes_run} min, ${s.violations} violations (${s.distinct_failures} distinct); summary in ${values.out}\n`);
}

if (isMainThread) await main();
else workerLoop(workerData as WorkerInput);
