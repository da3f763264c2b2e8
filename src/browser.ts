// The library's browser build (`bert-ts/browser`): everything that runs without Node, on
// onnxruntime-web. package.json's "browser" field swaps runtime/ort-node for runtime/ort-web, so a
// bundler targeting browsers (esbuild, webpack, rollup) gets the WASM backend; call configureWasm
// first to say where ORT's .wasm files are served and how many threads to use.
export { BertError } from './errors.ts';
export { configureWasm, BACKEND_NAME } from './runtime/ort-web.ts';
export { CompiledGraph, hostTensor } from './runtime/session.ts';
export type { HostTensor, SessionOptions } from './runtime/session.ts';
// Tokenizer, config, checkpoints as bytes.
export { WordPieceTokenizer } from './tokenizer/wordpiece-tokenizer.ts';
export { parseVocab, validateVocab, SPECIAL_TOKENS } from './tokenizer/vocab-text.ts';
export { parseTokenizerJson } from './tokenizer/tokenizer-json.ts';
export type { EncodeOptions, Encoding, SpecialTokenIds } from './tokenizer/types.ts';
export { PRESETS, makeConfig, validateConfig, parseConfigJson, configFromJson, configToJson } from './model/config.ts';
export type { BertConfig, HiddenAct, PresetName } from './model/config.ts';
export { parseSafetensors, encodeSafetensors } from './checkpoint/safetensors-format.ts';
export type { SafetensorsFile } from './checkpoint/safetensors-format.ts';
export { weightsFrom } from './checkpoint/weights-from.ts';
export type { WeightsRequest, LoadedWeights } from './checkpoint/weights-from.ts';
export { bertParameterShapes, countParameters, matchState, describeMatch, normalizeKey, normalizeState, TOKENIZER_FILES } from './checkpoint/keys.ts';
export { zipStored, crc32 } from './checkpoint/zip-write.ts';
export type { FloatTensor, StoredTensor } from './checkpoint/tensor.ts';
// The engine and the model.
export { Graph, Value } from './graph/graph.ts';
export * as ops from './graph/ops.ts';
export { gradients } from './graph/autodiff.ts';
export { lowerGraph } from './graph/lower.ts';
export * as bert from './model/bert.ts';
export { initParams } from './model/init.ts';
export { ModelRunner } from './model/runner.ts';
export type { ParamTensor } from './model/runner.ts';
// Training and fine-tuning.
export { TrainStep } from './train/step.ts';
export type { TrainGraph, StepResult } from './train/step.ts';
export { AdamW, bertNoDecay, clipGradNorm, GradAccumulator } from './train/optimizer.ts';
export { applyUpdate } from './train/update.ts';
export { linearWarmupDecay, warmupFromRatio, checkSchedule } from './train/schedule.ts';
export { preTrainingObjective } from './train/objectives.ts';
export { finetuneForward, finetuneObjective, headParameters } from './train/finetune-objectives.ts';
export type { TaskFamily, FinetuneHead } from './train/finetune-objectives.ts';
export { finetunedConfig } from './train/finetune-config.ts';
export { ForwardRunner } from './train/finetune-forward.ts';
export { OptimizerStep } from './train/accumulate.ts';
export { textFeatures, collate, splitOutputs, featureLength } from './train/task-batches.ts';
export type { Feature, FeatureOutput } from './train/task-batches.ts';
export { accuracy, f1Binary, f1Macro } from './train/metrics/classification.ts';
// Data and inference helpers.
export { epochOrder, Rng } from './data/random.ts';
export { LabelMap, buildLabelMap } from './data/tasks/labels.ts';
export { parseCsv, parseTsv, splitLines } from './data/tasks/delimited.ts';
export type { TextExample } from './data/tasks/types.ts';
export { batchFeeds, lengthBuckets } from './inference/batching.ts';
export { buildInferenceGraph } from './inference/graph.ts';
export type { GraphPurpose } from './inference/graph.ts';
export { softmax, topK } from './inference/postprocess.ts';
