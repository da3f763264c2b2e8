// Task data: readers for every fine-tuning task family, label maps, and the feature builders
// that turn examples into model inputs (token-classification alignment, SQuAD windows).
export * from './types.ts';
export * from './lines.ts';
export * from './labels.ts';
export * from './glue.ts';
export * from './generic.ts';
export * from './conll.ts';
export * from './squad.ts';
export * from './swag.ts';
export * from './tokenizer.ts';
export * from './token-classification.ts';
export * from './squad-features.ts';
export * from './choice-features.ts';
