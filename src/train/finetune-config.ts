// The config.json of a fine-tuned model, without file access (the browser build uses it).
import type { LabelMap } from '../data/tasks/labels.ts';
import type { BertConfig } from '../model/config.ts';
import { ARCHITECTURE_OF_FAMILY } from './finetune-objectives.ts';
import type { TaskSpec } from './finetune-tasks.ts';

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
