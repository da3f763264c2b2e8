// The ONNX Runtime backend for Node: onnxruntime-node on the CPU, the only file that imports it.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { commonOptions, fromOrtTensor, toOrtTensor, type BackendSession, type HostTensor, type SessionOptions } from './backend.ts';

export const BACKEND_NAME = 'onnxruntime-node';

export async function createSession(model: Uint8Array, opts: SessionOptions): Promise<BackendSession> {
  const o: ort.InferenceSession.SessionOptions = {
    ...commonOptions(opts),
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads ?? availableParallelism(),
  };
  if (opts.profilePrefix) {
    o.enableProfiling = true;
    o.profileFilePrefix = opts.profilePrefix;
  }
  if (opts.optimizedModelPath) o.optimizedModelFilePath = opts.optimizedModelPath;
  const session = await ort.InferenceSession.create(model, o);
  return {
    async run(feeds, outputNames, into) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(ort.Tensor, t);
      // onnxruntime-node writes pre-allocated outputs in place: how a training step returns its gradients.
      // Its binding (1.30, 1.31) then also copies each of them into a new ArrayBuffer, which we drop: a
      // cost per output byte and run, and why pre-training sums its micro-batches inside one run.
      const fetches: Record<string, ort.Tensor | null> = {};
      for (const name of outputNames) {
        const t = into[name];
        fetches[name] = t ? toOrtTensor(ort.Tensor, t) : null;
      }
      const result = await session.run(ortFeeds, fetches);
      const out: Record<string, HostTensor> = {};
      for (const name of outputNames) out[name] = into[name] ?? fromOrtTensor(result[name]!);
      return out;
    },
    endProfiling: () => session.endProfiling(),
    release: () => session.release(),
  };
}
