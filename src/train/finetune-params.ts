// A fine-tuned model's starting point, no file access (the browser build uses this): its parameters
// (the checkpoint's encoder plus a fresh head) and its config.json.
import { bertParameterShapes, describeMatch, matchState } from '../checkpoint/keys.ts';
import type { LabelMap } from '../data/tasks/labels.ts';
import type { BertConfig } from '../model/config.ts';
import { initParams } from '../model/init.ts';
import type { ParamTensor } from '../model/runner.ts';
import { ARCHITECTURE_OF_FAMILY, HEAD_OF_FAMILY, type FinetuneHead } from './finetune-objectives.ts';
import type { TaskSpec } from './finetune-tasks.ts';

/**
 * The encoder of `tensors`, read from `dir` (or fresh weights), under `head`'s parameter names;
 * missing ones (the new head) fresh, as from_pretrained.
 */
export function startingParams(
  dir: string,
  config: BertConfig,
  head: FinetuneHead,
  opts: { seed: number; randomInit?: boolean; say: (m: string) => void; tensors: ReadonlyMap<string, ParamTensor>; source: string },
): Map<string, ParamTensor> {
  const shapes = bertParameterShapes(config, HEAD_OF_FAMILY[head.family], head.numLabels);
  const fresh = initParams(shapes, config, opts.seed);
  if (opts.randomInit) return fresh;
  const tensors = opts.tensors;
  const match = matchState(shapes, tensors, opts.source);
  for (const line of describeMatch(match, ARCHITECTURE_OF_FAMILY[head.family], dir)) opts.say(line);
  // Copies: the optimizer updates in place, and the loaded tensors may be shared.
  return new Map([...shapes.keys()].map((name) => {
    const t = tensors.get(name);
    return [name, t ? { shape: [...t.shape], data: Float32Array.from(t.data) } : fresh.get(name)!];
  }));
}

/** config.json of a fine-tuned model: its class, its label names, regression's problem_type. */
export function finetunedConfig(base: BertConfig, spec: TaskSpec, labels: LabelMap | undefined): BertConfig {
  const { id2label: _i, label2id: _l, problem_type: _p, ...rest } = base;
  const config: BertConfig = { ...rest, architectures: [ARCHITECTURE_OF_FAMILY[spec.family]] };
  if (labels !== undefined) {
    const { id2label, label2id } = labels.toConfig();
    config.id2label = Object.fromEntries(Object.entries(id2label).map(([k, v]) => [Number(k), v]));
    config.label2id = label2id;
    config.problem_type = 'single_label_classification';
  }
  if (spec.family === 'regression') {
    config.id2label = { 0: 'LABEL_0' };
    config.label2id = { LABEL_0: 0 };
    config.problem_type = 'regression';
  }
  return config;
}
