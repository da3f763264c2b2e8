// The one weight loader's matching, without file access (the browser build uses it): a checkpoint's
// tensors matched against the parameters of the class being built, the missing and unexpected keys
// reported in Hugging Face's words, and what is missing (a new head, typically) freshly initialised.
// weights.ts is the loader itself (loadWeights), which reads the model folder first.
import type { BertConfig } from '../model/config.ts';
import { initParams } from '../model/init.ts';
import { checkWeightCoverage } from './coverage.ts';
import type { Checkpoint } from './folder.ts';
import { describeMatch, matchState, type StateMatch } from './keys.ts';
import type { FloatTensor } from './tensor.ts';

export interface WeightsRequest {
  /** The parameters of the class being built (bertParameterShapes), by Hugging Face name. */
  shapes: ReadonlyMap<string, number[]>;
  /** Its class name, for the messages ('BertForSequenceClassification'). */
  modelName: string;
  /** Sizes and initializer_range of fresh parameters. */
  config: BertConfig;
  /** Seed of fresh parameters (each name draws its own stream: see initParams). */
  seed: number;
  /** Where Hugging Face's load messages go. */
  say: (line: string) => void;
  /** Give loaded tensors buffers of their own: the caller (a training loop) updates them in place. */
  writable?: boolean;
}

export interface LoadedWeights {
  /** Every parameter of `shapes`: the checkpoint's where it has one, fresh where not. */
  params: Map<string, FloatTensor>;
  /** What matched; `unexpected` tensors are not in `params` (the checkpoint still holds them). */
  match: StateMatch;
}

/**
 * The parameters of `request.shapes` from `ckpt` (tensors read from `folder`), or all fresh when `ckpt`
 * is undefined (random initialisation). A shape that differs from the model's is an error naming
 * every such key with both shapes (matchState); a checkpoint holding under half the parameters is
 * refused (checkWeightCoverage) rather than filled with random layers.
 */
export function weightsFrom(ckpt: Pick<Checkpoint, 'tensors' | 'source'> | undefined, folder: string, request: WeightsRequest): LoadedWeights {
  if (ckpt === undefined) {
    return { params: initParams(request.shapes, request.config, request.seed), match: { missing: [...request.shapes.keys()], unexpected: [] } };
  }
  const match = matchState(request.shapes, ckpt.tensors, ckpt.source);
  checkWeightCoverage(request.shapes, match, ckpt.source);
  for (const line of describeMatch(match, request.modelName, folder)) request.say(line);
  const fresh = initParams(new Map(match.missing.map((name) => [name, request.shapes.get(name)!])), request.config, request.seed);
  const params = new Map<string, FloatTensor>();
  for (const name of request.shapes.keys()) {
    const t = ckpt.tensors.get(name);
    if (t === undefined) params.set(name, fresh.get(name)!);
    else params.set(name, request.writable ? { shape: [...t.shape], data: Float32Array.from(t.data) } : t);
  }
  return { params, match };
}
