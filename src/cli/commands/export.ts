import type { Command } from 'commander';
import { EXPORT_TASKS, exportModel } from '../../inference/export.ts';
import type { ExportTask } from '../../inference/graph.ts';
import { checked, oneOf, QUANTIZE } from '../flags.ts';

interface ExportFlags {
  model: string;
  out: string;
  task?: ExportTask;
  quantize?: 'int8';
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a folder transformers.js loads offline: config, tokenizer, onnx/model.onnx, README.md')
    .requiredOption('--model <dir>', 'a BERT model folder')
    .requiredOption('--out <dir>', 'the folder to write')
    .option(...checked('--task <task>', `${EXPORT_TASKS.join(' | ')}; default from the architecture`, oneOf(EXPORT_TASKS)))
    .option(...checked('--quantize <kind>', 'int8: also write onnx/model_quantized.onnx', QUANTIZE))
    .action((flags: ExportFlags) => {
      const summary = exportModel(flags.model, flags.out, { task: flags.task, quantize: flags.quantize });
      process.stdout.write(`${JSON.stringify({ out: flags.out, ...summary })}\n`);
    });
}
