import type { Command } from 'commander';
import { serveModel } from '../../server/serve.ts';
import { BertError } from '../../errors.ts';
import { checked, nonNegativeInt, oneOf, positiveInt, QUANTIZE } from '../flags.ts';

interface ServeFlags {
  model: string;
  host: string;
  port: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxInputLength?: number;
  maxClientBatchSize: number;
  pooling: 'cls' | 'mean';
  quantize?: 'int8';
  fused: boolean;
  threads?: number;
  log?: boolean;
}

function port(value: string, flag: string): number {
  const n = nonNegativeInt(value, flag);
  if (n > 65535) throw new BertError(`${flag} must be at most 65535, got ${n}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('HTTP server speaking Text Embeddings Inference\'s API and OpenAI\'s /v1/embeddings, with dynamic batching')
    .requiredOption('--model <dir>', 'a BERT model folder (config, weights, tokenizer)')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option(...checked('--port <n>', 'port (0: any free one)', port, 8080))
    .option(...checked('--max-batch-size <n>', 'most inputs in one model call', positiveInt, 32))
    .option(...checked('--max-wait-ms <n>', 'longest an input waits for others to share its model call', nonNegativeInt, 5))
    .option(...checked('--max-input-length <n>', "longest input in tokens (default: the model's, at most 512)", positiveInt))
    .option(...checked('--max-client-batch-size <n>', 'most inputs in one request', positiveInt, 256))
    .option(...checked('--pooling <kind>', 'cls | mean, for /embed and /v1/embeddings', oneOf(['cls', 'mean']), 'cls'))
    .option(...checked('--quantize <kind>', 'int8: dynamic quantization of the weight matrices', QUANTIZE))
    .option('--no-fused', 'plain ONNX operators instead of the fused com.microsoft kernels')
    .option(...checked('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)', positiveInt))
    .option('--log', 'log each request (JSON lines) to stdout')
    .action(async (flags: ServeFlags) => {
      await serveModel(flags.model, {
        host: flags.host,
        port: flags.port,
        maxBatchSize: flags.maxBatchSize,
        maxWaitMs: flags.maxWaitMs,
        maxInputLength: flags.maxInputLength,
        maxClientBatchSize: flags.maxClientBatchSize,
        pooling: flags.pooling,
        quantize: flags.quantize,
        fused: flags.fused,
        threads: flags.threads,
        logger: flags.log ?? false,
      });
    });
}
