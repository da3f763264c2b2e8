// `bert export`: a model folder as transformers.js (and ONNX Runtime anywhere) loads it. The graph is the
// unfused one of model/bert.ts (plain ONNX operators plus com.microsoft Gelu), weights frozen in,
// with the input and output names of Hugging Face's ONNX exports.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BertHead } from '../checkpoint/keys.ts';
import { BertError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { configToJson, type BertConfig } from '../model/config.ts';
import { BertTokenizer } from '../tokenizer/bert-tokenizer.ts';
import { inferenceModelBytes, type ExportTask } from './graph.ts';
import { CLASS_OF_HEAD, resolveWeights, TASK_OF_HEAD } from './pipeline.ts';

export const EXPORT_TASKS: readonly ExportTask[] = ['feature-extraction', 'fill-mask', 'text-classification', 'token-classification', 'question-answering'];

const ARCHITECTURE: Record<ExportTask, string> = {
  'feature-extraction': 'BertModel',
  'fill-mask': 'BertForMaskedLM',
  'text-classification': 'BertForSequenceClassification',
  'token-classification': 'BertForTokenClassification',
  'question-answering': 'BertForQuestionAnswering',
};

const OUTPUTS: Record<ExportTask, string> = {
  'feature-extraction': '`last_hidden_state` (batch, sequence, hidden)',
  'fill-mask': '`logits` (batch, sequence, vocab)',
  'text-classification': '`logits` (batch, labels)',
  'token-classification': '`logits` (batch, sequence, labels)',
  'question-answering': '`start_logits`, `end_logits` (batch, sequence)',
};

export interface ExportOptions {
  task?: ExportTask;
  quantize?: 'int8';
  log?: (line: string) => void;
}

export interface ExportSummary {
  task: ExportTask;
  files: string[];
}

/** Writes `out`: config.json, tokenizer files, onnx/model.onnx (+ model_quantized.onnx), README.md. */
export function exportModel(modelDir: string, out: string, opts: ExportOptions = {}): ExportSummary {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { config, head, numLabels, weights } = resolveWeights(modelDir, log);
  const task = opts.task ?? TASK_OF_HEAD[head];
  if (!EXPORT_TASKS.includes(task)) throw new BertError(`unknown task ${JSON.stringify(task)}; tasks: ${EXPORT_TASKS.join(', ')}`);
  const tokenizer = BertTokenizer.fromDirectory(modelDir);
  const purpose = { kind: 'export', task, numLabels } as const;
  // Build first: a task the checkpoint cannot serve (fill-mask without an MLM head) fails before any file is written.
  const fp32 = inferenceModelBytes(config, weights, purpose, { fused: false });
  mkdirSync(join(out, 'onnx'), { recursive: true });
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'onnx/model.onnx'];
  writeFileAtomic(join(out, 'onnx', 'model.onnx'), fp32);
  if (opts.quantize === 'int8') {
    writeFileAtomic(join(out, 'onnx', 'model_quantized.onnx'), inferenceModelBytes(config, weights, purpose, { fused: false, quantize: 'int8' }));
    files.push('onnx/model_quantized.onnx');
  }
  tokenizer.save(out);
  writeFileAtomic(join(out, 'README.md'), readme(task, config, head, opts.quantize));
  files.push('README.md');
  writeFileAtomic(join(out, 'config.json'), configToJson(exportConfig(config, task, numLabels)));
  return { task, files };
}

function exportConfig(config: BertConfig, task: ExportTask, numLabels: number): BertConfig {
  const c: BertConfig = { ...config, architectures: [ARCHITECTURE[task]] };
  if ((task === 'text-classification' || task === 'token-classification') && c.id2label === undefined) {
    c.id2label = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [i, `LABEL_${i}`]));
    c.label2id = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [`LABEL_${i}`, i]));
  }
  return c;
}

function readme(task: ExportTask, config: BertConfig, head: BertHead, quantize: 'int8' | undefined): string {
  const q = quantize === 'int8';
  return `---
library_name: transformers.js
pipeline_tag: ${task}
---

# BERT for ${task}

Exported by bert-ts from a ${CLASS_OF_HEAD[head]} checkpoint (L${config.num_hidden_layers}/H${config.hidden_size}/A${config.num_attention_heads}).

**Task: \`${task}\`.**

- \`onnx/model.onnx\`: fp32. Inputs \`input_ids\`, \`attention_mask\`, \`token_type_ids\` (int64, batch x sequence, both dynamic);
  output ${OUTPUTS[task]}. Opset 17 plus ONNX Runtime's \`com.microsoft\` Gelu (exact erf form).
${q ? "- `onnx/model_quantized.onnx`: int8 weight matrices (symmetric, per output channel) with dynamically quantized activations\n  (DynamicQuantizeLinear + MatMulInteger); load it with `dtype: 'q8'`.\n" : ''}
\`\`\`js
import { env, pipeline } from '@huggingface/transformers';
env.allowRemoteModels = false;
env.localModelPath = '/absolute/path/to/the/parent/folder/';
const pipe = await pipeline('${task}', 'this-folder-name'${q ? ", { dtype: 'q8' }" : ''});
\`\`\`
`;
}
