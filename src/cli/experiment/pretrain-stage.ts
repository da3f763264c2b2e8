// One pre-training run of the study: a preset size on a corpus stage's examples, checkpointed every
// tenth of its steps so that an interrupted run resumes (exactly) from its last checkpoint, then
// evaluated on the held-out examples (MLM accuracy and perplexity, NSP accuracy).
import { join } from 'node:path';
import { bertParameterShapes } from '../../checkpoint/keys.ts';
import { makeConfig, type BertConfig, type PresetName } from '../../model/config.ts';
import { JsonlLog } from '../../train/jsonl-log.ts';
import { pretrain, type EvalResult, type PretrainStepRecord } from '../../train/pretrain.ts';
import type { CorpusResult } from './corpus.ts';
import type { PretrainPlan } from './plan.ts';
import type { Stage } from './stages.ts';

export interface PretrainStageResult {
  size: PresetName;
  layers: number;
  hidden: number;
  heads: number;
  /** Encoder parameters (BertModel, embeddings included). */
  parameters: number;
  steps: number;
  tokens: number;
  modelDir: string;
  eval: EvalResult;
  /** The step log, thinned to at most 400 records for the report. */
  history: PretrainStepRecord[];
}

// Our sequences are at most 128 tokens: a 512-row position table would only add untrained weights.
const MAX_POSITIONS = 128;

export function studyConfig(size: PresetName, vocabSize: number): BertConfig {
  return makeConfig(size, { vocab_size: vocabSize, max_position_embeddings: MAX_POSITIONS });
}

export function parameterCount(config: BertConfig): number {
  let n = 0;
  for (const shape of bertParameterShapes(config, 'none').values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out = Array.from({ length: max }, (_, k) => items[Math.floor((k * items.length) / max)]!);
  out[out.length - 1] = items[items.length - 1]!;
  return out;
}

/** Relative pre-training speed (tokens per second at 2 cores, measured for mini; others scaled by their FLOPs). */
const TOKENS_PER_SECOND: Record<PresetName, number> = { tiny: 12000, mini: 3900, small: 1300, medium: 650, base: 230, large: 70 };

export function pretrainStage(id: string, size: PresetName, corpus: () => CorpusResult, p: PretrainPlan, seed: number): Stage<PretrainStageResult> {
  const tokens = p.steps * p.batchSize * p.maxSeqLength;
  return {
    id,
    title: `pre-train ${size} for ${p.steps} steps of ${p.batchSize} x ${p.maxSeqLength} tokens`,
    cost: tokens / TOKENS_PER_SECOND[size],
    async run(ctx) {
      const c = corpus();
      const config = studyConfig(size, c.vocabSize);
      const saveEvery = Math.max(1, Math.ceil(p.steps / 10));
      const warmup = Math.round(p.steps * 0.1);
      ctx.command(['bert', 'pretrain', '--data', c.trainData, '--config', size, '--tokenizer', c.tokenizerDir, '--out', ctx.dir, '--steps', String(p.steps),
        '--batch-size', String(p.batchSize), '--lr', String(p.lr), '--warmup-steps', String(warmup), '--seed', String(seed), '--save-every', String(saveEvery),
        '--keep-last', '2', '--resume', '--eval-data', c.heldOutData]);
      let log: JsonlLog | undefined;
      const result = await pretrain({
        data: c.trainData, config, tokenizerDir: c.tokenizerDir, out: ctx.dir, batchSize: p.batchSize, lr: p.lr, warmupSteps: warmup, steps: p.steps,
        weightDecay: 0.01, maxGradNorm: 1, gradAccum: 1, accumulate: 'graph', seed, shuffle: true, saveEvery, keepLast: 2, resume: true, evalData: c.heldOutData,
        // A checkpoint every tenth of the run is routine; resuming and weight-loading messages are worth showing.
        onMessage: (m) => {
          if (!m.startsWith('saved ')) ctx.log(m);
        },
        onStart: (start) => {
          log = JsonlLog.open(join(ctx.dir, 'log.jsonl'), { keepThroughStep: start });
        },
        onStep: (r) => {
          log?.write({ ...r });
          ctx.progress(r.step / r.steps);
        },
      });
      log?.close();
      ctx.log(`held-out MLM accuracy ${(100 * result.eval!.mlm_accuracy).toFixed(1)}%, perplexity ${result.eval!.mlm_perplexity.toFixed(1)}, NSP accuracy ${(100 * result.eval!.nsp_accuracy).toFixed(1)}%`);
      return {
        size, layers: config.num_hidden_layers, hidden: config.hidden_size, heads: config.num_attention_heads, parameters: parameterCount(config),
        steps: result.steps, tokens, modelDir: result.modelDir, eval: result.eval!, history: thin(result.history, 400),
      };
    },
  };
}
