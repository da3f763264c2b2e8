// Plain example records the task readers return. `where` ("file:line") travels with each
// example so that a later step (label mapping, feature building) can point at its source.

/** Single-sentence or sentence-pair classification, or regression (label is the number as written). */
export interface TextExample {
  text_a: string;
  text_b?: string;
  label: string;
  where: string;
}

/** One sentence of token classification: a tag per word. */
export interface TaggedSentence {
  words: string[];
  tags: string[];
  where: string;
}

export interface SquadAnswer {
  text: string;
  /** UTF-16 index into `context`. */
  answer_start: number;
}

export interface SquadExample {
  id: string;
  question: string;
  context: string;
  answers: SquadAnswer[];
  is_impossible: boolean;
  where: string;
}

/** SWAG-style multiple choice: each ending is read as `start + ' ' + ending` after `context`. */
export interface ChoiceExample {
  context: string;
  start: string;
  endings: string[];
  /** Index of the right ending; undefined for unlabelled (test) data. */
  label?: number;
  where: string;
}
