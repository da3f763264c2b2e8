// The library's public API: everything the CLI can do, typed.
export { BertError } from './errors.ts';
export { BertTokenizer, trainWordPieceVocab, readVocabFile, SPECIAL_TOKENS } from './tokenizer/index.ts';
export type { EncodeOptions, Encoding, SpecialTokenIds } from './tokenizer/index.ts';
export { PRESETS, makeConfig, validateConfig, readConfigJson, configFromJson, configToJson } from './model/config.ts';
export type { BertConfig, HiddenAct, PresetName } from './model/config.ts';
export { loadCheckpoint, saveCheckpoint } from './checkpoint/folder.ts';
export type { Checkpoint, SaveOptions } from './checkpoint/folder.ts';
export { bertParameterShapes, countParameters, matchState, describeMatch, normalizeKey, normalizeState } from './checkpoint/keys.ts';
export type { BertHead, StateMatch } from './checkpoint/keys.ts';
export { readSafetensors, writeSafetensors } from './checkpoint/safetensors.ts';
export { readPytorchBin } from './checkpoint/pytorch-bin.ts';
export type { FloatTensor, StoredTensor } from './checkpoint/tensor.ts';
export { accuracy, f1Binary, f1Macro, matthewsCorrcoef, pearson, spearman, glueMetrics, normalizeAnswer, squadV1, squadV2, getEntities, entityScores } from './train/metrics/index.ts';
export type { GlueTask, SquadV1Result, SquadV2Result, Entity, EntityScore, EntityReport } from './train/metrics/index.ts';
export { GLUE_TASKS, GLUE_LAYOUTS, isGlueTask, readGlue, readColumns, readConll, readSquad, readSwag, LabelMap, buildLabelMap, buildTagMap, IGNORE_INDEX, alignTokenLabels, wordPredictions, buildSquadFeatures, postprocessSquad, squadV2Answers, SQUAD_DEFAULTS } from './data/tasks/index.ts';
export type { TextExample, TaggedSentence, SquadExample, SquadAnswer, ChoiceExample, GlueTaskName, ColumnOptions, PieceTokenizer, TokenClassificationFeature, SquadFeature, SquadFeatures, SquadPrediction, SquadSpan } from './data/tasks/index.ts';
export { makePretrainingData, openPretrainingData, epochOrder, prefetchBatches, Rng, splitSentences, brownDocuments, brownTaggedSentences, brownGenres, brownPretrainingText } from './data/pretraining.ts';
export type { PretrainingTokenizer, MakePretrainingDataOptions, MakeSummary, PretrainingDataset, PretrainingBatch, PrefetchedBatch, RngState, BrownDocument, BrownTaggedSentence } from './data/pretraining.ts';
