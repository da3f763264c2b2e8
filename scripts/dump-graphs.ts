// Dumps the training graph (forward + backward) and the inference graph of a tiny BERT as .onnx
// files, for scripts/check_onnx.py (onnx.checker) or Netron. Usage: node --import tsx scripts/dump-graphs.ts OUTDIR
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gradients } from '../src/graph/autodiff.ts';
import { writeOnnx } from '../src/graph/write-onnx.ts';
import { makeConfig } from '../src/model/config.ts';
import { preTrainingObjective } from '../src/train/objectives.ts';

const out = process.argv[2] ?? '/tmp/bert-graphs';
mkdirSync(out, { recursive: true });
const config = makeConfig({ vocab_size: 99, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 37, max_position_embeddings: 64 });
const train = preTrainingObjective(config, { training: true });
const names = [...train.ctx.params.keys()];
const grads = gradients(train.loss, names.map((n) => train.ctx.params.get(n)!));
writeOnnx(join(out, 'pretraining-step.onnx'), { loss: train.loss, ...train.outputs, ...Object.fromEntries(names.map((n, i) => [`grad:${n}`, grads[i]!])) });
const infer = preTrainingObjective(config, { training: false });
writeOnnx(join(out, 'pretraining-forward.onnx'), infer.outputs);
console.log(`wrote ${out}/pretraining-step.onnx and pretraining-forward.onnx`);
