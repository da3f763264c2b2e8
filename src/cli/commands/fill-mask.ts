import type { Command } from 'commander';
import { loadInferenceModel } from '../../inference/pipeline.ts';
import { checked, positiveInt, QUANTIZE } from '../flags.ts';

interface FillMaskFlags {
  model: string;
  topK: number;
  quantize?: 'int8';
  fused: boolean;
}

export function register(program: Command): void {
  program
    .command('fill-mask')
    .description("predict each [MASK] in TEXT: a JSON list per mask of {score, token, token_str, sequence} (Hugging Face's fill-mask shape), best first")
    .argument('<text>', 'text with one or more [MASK]')
    .requiredOption('--model <dir>', 'a BertForMaskedLM or BertForPreTraining folder')
    .option(...checked('--top-k <n>', 'predictions per mask', positiveInt, 5))
    .option(...checked('--quantize <kind>', 'int8: dynamic quantization of the weight matrices', QUANTIZE))
    .option('--no-fused', 'plain ONNX operators instead of the fused com.microsoft kernels')
    .action(async (text: string, flags: FillMaskFlags) => {
      const model = await loadInferenceModel(flags.model, { quantize: flags.quantize, fused: flags.fused });
      try {
        const [masks] = await model.fillMask([text], flags.topK);
        process.stdout.write(`${JSON.stringify(masks)}\n`);
      } finally {
        await model.dispose();
      }
    });
}
