// The ONNX Runtime backend for the browser: onnxruntime-web's WASM build, the only file that imports
// it. Bundlers for the browser resolve './ort-node.ts' to this module (package.json's "browser" field). The .wasm file is
// fetched from `wasmPaths` (served beside the bundle, no CDN). Threads need a cross-origin isolated
// page (COOP/COEP headers); without isolation ORT runs on one thread.
import * as ort from 'onnxruntime-web/wasm';
import { commonOptions, fromOrtTensor, toOrtTensor, type BackendSession, type HostTensor, type SessionOptions } from './backend.ts';

export const BACKEND_NAME = 'onnxruntime-web (wasm)';

/** Where the page serves ORT's .wasm files; set before the first session (web/app/worker.ts). */
export function configureWasm(opts: { wasmPaths: string; threads: number }): void {
  ort.env.wasm.wasmPaths = opts.wasmPaths;
  ort.env.wasm.numThreads = opts.threads;
  ort.env.logLevel = 'error';
}

export async function createSession(model: Uint8Array, opts: SessionOptions): Promise<BackendSession> {
  // The WASM backend takes its thread count from env.wasm.numThreads, set once per page.
  const session = await ort.InferenceSession.create(model, { ...commonOptions(opts), executionProviders: ['wasm'] });
  return {
    async run(feeds, outputNames, into) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(ort.Tensor, t);
      const result = await session.run(ortFeeds, outputNames);
      const out: Record<string, HostTensor> = {};
      for (const name of outputNames) {
        const t = fromOrtTensor(result[name]!);
        const dest = into[name];
        // Outputs live in the WASM heap: copied into the caller's buffer when it gave one.
        if (dest) (dest.data as Float32Array).set(t.data as Float32Array);
        out[name] = dest ?? t;
      }
      return out;
    },
    endProfiling: () => session.endProfiling(),
    release: () => session.release(),
  };
}
