import type { Command } from 'commander';
import { register as embed } from './embed.ts';
import { register as evalCmd } from './eval.ts';
import { register as experiment } from './experiment.ts';
import { register as exportCmd } from './export.ts';
import { register as fillMask } from './fill-mask.ts';
import { register as finetune } from './finetune.ts';
import { register as makePretrainingData } from './make-pretraining-data.ts';
import { register as predict } from './predict.ts';
import { register as serve } from './serve.ts';
import { register as pretrain } from './pretrain.ts';
import { register as start } from './start.ts';
import { register as tokenize } from './tokenize.ts';
import { register as vocab } from './vocab.ts';

/** One entry a command; each adds itself to the program. Add new commands here. */
export const commands: Array<(program: Command) => void> = [embed, evalCmd, experiment, exportCmd, fillMask, finetune, makePretrainingData, predict, pretrain, serve, start, tokenize, vocab];
