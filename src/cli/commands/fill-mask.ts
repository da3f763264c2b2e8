import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { loadInferenceModel } from '../../inference/pipeline.ts';
import { positiveInt } from '../flags.ts';

interface FillMaskFlags {
  model: string;
  topK: string;
  quantize?: string;
  fused: boolean;
}

export function register(program: Command): void {
  program
    .command('fill-mask')
    .description("predict each [MASK] in TEXT: a JSON list per mask of {score, token, token_str, sequence} (Hugging Face's fill-mask shape), best first")
    .argument('<text>', 'text with one or more [MASK]')
    .requiredOption('--model <dir>', 'a BertForMaskedLM or BertForPreTraining folder')
    .option('--top-k <n>', 'predictions per mask', '5')
    .option('--quantize <kind>', 'int8: dynamic quantization of the weight matrices')
    .option('--no-fused', 'plain ONNX operators instead of the fused com.microsoft kernels')
    .action(async (text: string, flags: FillMaskFlags) => {
      const k = positiveInt(flags.topK, '--top-k');
      const model = await loadInferenceModel(flags.model, { quantize: quantizeFlag(flags.quantize), fused: flags.fused });
      try {
        const [masks] = await model.fillMask([text], k);
        process.stdout.write(`${JSON.stringify(masks)}\n`);
      } finally {
        await model.dispose();
      }
    });
}

export function quantizeFlag(value: string | undefined): 'int8' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'int8') throw new BertError(`--quantize must be int8, got ${JSON.stringify(value)}`);
  return 'int8';
}
