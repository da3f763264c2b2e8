import type { Command } from 'commander';
import { BertError } from '../../errors.ts';
import { EXPORT_TASKS, exportModel } from '../../inference/export.ts';
import type { ExportTask } from '../../inference/graph.ts';
import { quantizeFlag } from './fill-mask.ts';

interface ExportFlags {
  model: string;
  out: string;
  task?: string;
  quantize?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a folder transformers.js loads offline: config, tokenizer, onnx/model.onnx, README.md')
    .requiredOption('--model <dir>', 'a BERT model folder')
    .requiredOption('--out <dir>', 'the folder to write')
    .option('--task <task>', `${EXPORT_TASKS.join(' | ')}; default from the architecture`)
    .option('--quantize <kind>', 'int8: also write onnx/model_quantized.onnx')
    .action((flags: ExportFlags) => {
      if (flags.task !== undefined && !(EXPORT_TASKS as readonly string[]).includes(flags.task)) {
        throw new BertError(`--task must be one of ${EXPORT_TASKS.join(', ')}, got ${JSON.stringify(flags.task)}`);
      }
      const summary = exportModel(flags.model, flags.out, { task: flags.task as ExportTask | undefined, quantize: quantizeFlag(flags.quantize) });
      process.stdout.write(`${JSON.stringify({ out: flags.out, ...summary })}\n`);
    });
}
