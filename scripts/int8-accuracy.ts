// int8 vs fp32 on a model fine-tuned on SST-2: dev accuracy of both and how often they agree.
// Usage: node --import tsx scripts/int8-accuracy.ts MODEL_DIR ../shared/data/glue/SST-2/dev.tsv
import { readGlue } from '../src/data/tasks/glue.ts';
import { loadInferenceModel } from '../src/inference/pipeline.ts';

const [modelDir, devPath] = process.argv.slice(2) as [string, string];
const dev = readGlue('sst2', devPath);
const texts = dev.map((e) => e.text_a);
const result: Record<string, number> = { examples: dev.length };
const predictions: Record<string, string[]> = {};
for (const quantize of [undefined, 'int8'] as const) {
  const model = await loadInferenceModel(modelDir, { quantize, log: () => {} });
  const scores = await model.classify(texts, 1);
  const labels = scores.map((s) => s[0]!.label);
  predictions[quantize ?? 'fp32'] = labels;
  result[`${quantize ?? 'fp32'}_accuracy`] = labels.filter((l, i) => l === dev[i]!.label).length / dev.length;
  await model.dispose();
}
result.agreement = predictions.fp32!.filter((l, i) => l === predictions.int8![i]).length / dev.length;
console.log(JSON.stringify(result));
