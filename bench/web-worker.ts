// The browser side of bench/web.bench.ts: a module worker that runs measureWeb on onnxruntime-web
// with as many threads as the page gets (cross-origin isolated: up to 8) and posts the result.
import { configureWasm } from '../src/runtime/ort-web.ts';
import { measureWeb, WEB_BENCH_CASE } from './web-measure.ts';

interface Scope {
  crossOriginIsolated: boolean;
  navigator: { hardwareConcurrency: number };
  location: { origin: string };
  postMessage(m: unknown): void;
}
const scope = globalThis as unknown as Scope;
const threads = scope.crossOriginIsolated ? Math.max(1, Math.min(8, scope.navigator.hardwareConcurrency)) : 1;
configureWasm({ wasmPaths: `${scope.location.origin}/ort/`, threads });
measureWeb(WEB_BENCH_CASE)
  .then((r) => scope.postMessage({ threads, ...r }))
  .catch((err: unknown) => scope.postMessage({ error: String(err) }));
