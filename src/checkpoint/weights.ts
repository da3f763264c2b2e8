// The one weight loader, as `from_pretrained` does it: a model folder's tensors (names already
// canonical, `bert.` prefix or not, see keys.ts) matched against the parameters of the class being
// built, the missing and unexpected keys reported in Hugging Face's words, and what is missing (a new
// head, typically) freshly initialised. Pre-training (--init), fine-tuning, eval/predict, inference and
// export all load through here.
import { dirname } from 'node:path';
import { loadCheckpoint, type Checkpoint } from './folder.ts';
import { weightsFrom, type LoadedWeights, type WeightsRequest } from './weights-from.ts';

export { weightsFrom, type LoadedWeights, type WeightsRequest } from './weights-from.ts';

/**
 * The parameters of `request.shapes` from `from` (a model folder, or one already read), or all fresh
 * when `from` is undefined (random initialisation); see weightsFrom (shape mismatches and a checkpoint
 * holding under half the parameters are refused there).
 */
export function loadWeights(from: string | Checkpoint | undefined, request: WeightsRequest): LoadedWeights {
  if (from === undefined) return weightsFrom(undefined, '', request);
  const ckpt = typeof from === 'string' ? loadCheckpoint(from) : from;
  return weightsFrom(ckpt, dirname(ckpt.source), request);
}
