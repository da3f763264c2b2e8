import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { loadInferenceModel } from '../../inference/pipeline.ts';
import type { InferenceModel } from '../../inference/types.ts';
import { utf8Lines } from '../../tokenizer/lines.ts';
import { checked, oneOf, positiveInt, QUANTIZE } from '../flags.ts';

interface EmbedFlags {
  model: string;
  pooling: Pooling;
  layers: number[];
  maxLength?: number;
  normalize?: boolean;
  quantize?: 'int8';
  fused: boolean;
}

const POOLINGS = ['cls', 'mean', 'pooler', 'none'] as const;
type Pooling = (typeof POOLINGS)[number];

/** "-1,-2,-3,-4" -> [-1, -2, -3, -4]. */
export function parseLayers(value: string, flag = '--layers'): number[] {
  const layers = value.split(',').map((s) => s.trim());
  if (layers.some((s) => !/^-?\d+$/.test(s))) throw new BertError(`${flag} must be comma-separated integers like -1,-2, got ${JSON.stringify(value)}`);
  return layers.map(Number);
}

/** Lines per forward batch when reading stdin: the model buckets them by length inside. */
const STDIN_CHUNK = 256;

export function register(program: Command): void {
  program
    .command('embed')
    .description('embed TEXT (or each line of stdin when TEXT is -): one JSON object per text')
    .argument('<text>', 'text to embed, or - for one text a line from stdin')
    .requiredOption('--model <dir>', 'a BERT model folder')
    .option(...checked('--pooling <kind>', 'cls | mean | pooler | none (per-token hidden states)', oneOf(POOLINGS), 'cls'))
    .option(...checked('--layers <list>', 'hidden layers to concatenate, negative from the end', parseLayers, [-1]))
    .option(...checked('--max-length <n>', 'truncate to at most n tokens, specials included', positiveInt))
    .option('--normalize', 'L2-normalise each embedding')
    .option(...checked('--quantize <kind>', 'int8: dynamic quantization of the weight matrices', QUANTIZE))
    .option('--no-fused', 'plain ONNX operators instead of the fused com.microsoft kernels')
    .action(async (text: string, flags: EmbedFlags) => {
      const model = await loadInferenceModel(flags.model, { quantize: flags.quantize, fused: flags.fused });
      const lines = async (texts: string[]): Promise<string> => (await embedLines(model, texts, flags.pooling, flags.layers, flags.maxLength, flags.normalize ?? false)).join('');
      try {
        if (text !== '-') {
          process.stdout.write(await lines([text]));
          return;
        }
        let chunk: string[] = [];
        const flush = async () => {
          if (chunk.length === 0) return;
          const out = await lines(chunk);
          chunk = [];
          if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        };
        for await (const line of utf8Lines(process.stdin, 'stdin')) {
          chunk.push(line);
          if (chunk.length >= STDIN_CHUNK) await flush();
        }
        await flush();
      } finally {
        await model.dispose();
      }
    });
}

/** One JSON line per text: {embedding} or, for pooling none, {tokens, hidden_states}. */
export async function embedLines(model: InferenceModel, texts: string[], pooling: Pooling, layers: number[], maxLength: number | undefined, normalize: boolean): Promise<string[]> {
  if (pooling === 'none') {
    const states = await model.tokenStates(texts, { layers, maxLength });
    return states.map((s) => `${JSON.stringify(s)}\n`);
  }
  const embeddings = await model.embed(texts, { pooling, layers, maxLength, normalize });
  return embeddings.map((embedding) => `${JSON.stringify({ embedding })}\n`);
}
