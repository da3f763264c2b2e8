import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { serveModel } from '../../server/serve.ts';
import { quantizeFlag } from './fill-mask.ts';
import { nonNegativeInt, positiveInt } from '../flags.ts';

interface ServeFlags {
  model: string;
  host: string;
  port: string;
  maxBatchSize: string;
  maxWaitMs: string;
  maxInputLength?: string;
  maxClientBatchSize: string;
  pooling: string;
  quantize?: string;
  fused: boolean;
  threads?: string;
  log?: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('HTTP server speaking Text Embeddings Inference\'s API and OpenAI\'s /v1/embeddings, with dynamic batching')
    .requiredOption('--model <dir>', 'a BERT model folder (config, weights, tokenizer)')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', '8080')
    .option('--max-batch-size <n>', 'most inputs in one model call', '32')
    .option('--max-wait-ms <n>', 'longest an input waits for others to share its model call', '5')
    .option('--max-input-length <n>', "longest input in tokens (default: the model's, at most 512)")
    .option('--max-client-batch-size <n>', 'most inputs in one request', '256')
    .option('--pooling <kind>', 'cls | mean, for /embed and /v1/embeddings', 'cls')
    .option('--quantize <kind>', 'int8: dynamic quantization of the weight matrices')
    .option('--no-fused', 'plain ONNX operators instead of the fused com.microsoft kernels')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
    .option('--log', 'log each request (JSON lines) to stdout')
    .action(async (flags: ServeFlags) => {
      if (flags.pooling !== 'cls' && flags.pooling !== 'mean') throw new BertError(`--pooling must be cls or mean, got ${JSON.stringify(flags.pooling)}`);
      const port = nonNegativeInt(flags.port, '--port');
      if (port > 65535) throw new BertError(`--port must be at most 65535, got ${port}`);
      await serveModel(flags.model, {
        host: flags.host,
        port,
        maxBatchSize: positiveInt(flags.maxBatchSize, '--max-batch-size'),
        maxWaitMs: nonNegativeInt(flags.maxWaitMs, '--max-wait-ms'),
        maxInputLength: flags.maxInputLength === undefined ? undefined : positiveInt(flags.maxInputLength, '--max-input-length'),
        maxClientBatchSize: positiveInt(flags.maxClientBatchSize, '--max-client-batch-size'),
        pooling: flags.pooling,
        quantize: quantizeFlag(flags.quantize),
        fused: flags.fused,
        threads: flags.threads === undefined ? undefined : positiveInt(flags.threads, '--threads'),
        logger: flags.log ?? false,
      });
    });
}
