import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer } from '../src/tokenizer/index.ts';
import {
  alignTokenLabels,
  buildSquadFeatures,
  IGNORE_INDEX,
  postprocessSquad,
  readSquad,
  squadV2Answers,
  wordPredictions,
  type SquadExample,
  type SquadFeature,
} from '../src/data/tasks/index.ts';
import { BertError } from '../src/errors.ts';
import { sharedData } from './helpers/shared-data.ts';

const vocab = sharedData('vocab/bert-base-uncased/vocab.txt');
const tok = vocab === undefined ? undefined : BertTokenizer.fromVocabFile(vocab, { lowercase: true });

test('token classification: tag on the first piece, -100 elsewhere, back to one tag per word', (t) => {
  if (tok === undefined) return t.skip('shared vocab missing');
  const words = ['Johanson', 'visited', 'U.S.', 'embassies'];
  const f = alignTokenLabels(tok, words, [1, 0, 2, 0], { max_length: 32 });
  const pieces = f.input_ids.map((id) => tok.idToToken(id));
  // Basic tokenization splits U.S. at its dots: four pieces, one word.
  assert.deepEqual(pieces, ['[CLS]', 'johan', '##son', 'visited', 'u', '.', 's', '.', 'em', '##bas', '##sies', '[SEP]']);
  assert.deepEqual(f.word_ids, [null, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, null]);
  const I = IGNORE_INDEX;
  assert.deepEqual(f.labels, [I, 1, I, 0, 2, I, I, I, 0, I, I, I]);
  assert.equal(f.words_without_pieces, 0);
  // Predictions on non-first pieces are ignored.
  const piecePreds = [9, 1, 2, 0, 2, 1, 1, 1, 0, 2, 2, 9];
  assert.deepEqual(wordPredictions(f.word_ids, piecePreds, words.length, 0), [1, 0, 2, 0]);
  // Truncation drops the last words; they come back as the fallback tag.
  const short = alignTokenLabels(tok, words, [1, 0, 2, 0], { max_length: 6, padding: 'max_length' });
  assert.deepEqual(short.word_ids, [null, 0, 0, 1, 2, null]);
  assert.equal(short.words_without_pieces, 1);
  assert.deepEqual(wordPredictions(short.word_ids, [0, 1, 0, 0, 1, 0], 4, 7), [1, 0, 1, 7]);
  const padded = alignTokenLabels(tok, ['a'], [3], { max_length: 6, padding: 'max_length' });
  assert.deepEqual(padded.labels, [I, 3, I, I, I, I]);
  assert.deepEqual(padded.attention_mask, [1, 1, 1, 0, 0, 0]);
  assert.throws(() => alignTokenLabels(tok, ['a', 'b'], [1], { max_length: 8 }), BertError);
});

/** Logits that point at the feature's gold start/end (or [CLS] when it has none). */
function goldLogits(f: SquadFeature): { start: Float64Array; end: Float64Array } {
  const start = new Float64Array(f.input_ids.length);
  const end = new Float64Array(f.input_ids.length);
  start[f.start_position] = 10;
  end[f.end_position] = 10;
  return { start, end };
}

function checkRoundTrip(examples: SquadExample[], opts: { max_seq_length: number; doc_stride: number }) {
  const { features, skipped } = buildSquadFeatures(tok!, examples, { training: true, ...opts });
  assert.deepEqual(skipped, []);
  let exact = 0;
  let answered = 0;
  const aligned = new Set<number>();
  const windowsHoldingAnswer: number[] = [];
  for (const f of features) {
    assert.equal(f.input_ids.length, opts.max_seq_length);
    if (f.start_position === 0) continue;
    const ex = examples[f.example_index]!;
    const a = ex.answers[0]!;
    const so = f.offsets[f.start_position]!;
    const eo = f.offsets[f.end_position]!;
    // The gold pieces cover the answer, and exactly it whenever it starts and ends on piece boundaries.
    assert.ok(so[0] <= a.answer_start && eo[1] >= a.answer_start + a.text.length, ex.id);
    if (so[0] === a.answer_start && eo[1] === a.answer_start + a.text.length) {
      exact++;
      aligned.add(f.example_index);
    }
    answered++;
    windowsHoldingAnswer.push(f.window);
  }
  // Post-processing with logits at the gold pieces gives back the span, from whichever window.
  const logits = features.map(goldLogits);
  const preds = postprocessSquad(examples, features, logits);
  let textEqual = 0;
  let withAnswer = 0;
  preds.forEach((p, i) => {
    const ex = examples[i]!;
    if (ex.is_impossible) return;
    withAnswer++;
    const a = ex.answers[0]!;
    if (p.best.text === a.text) textEqual++;
    // An answer on piece boundaries comes back exactly; one inside a piece ("8" of "18") cannot.
    else assert.ok(!aligned.has(i), `${ex.id}: ${JSON.stringify(p.best.text)} != ${JSON.stringify(a.text)}`);
    assert.equal(p.best.text, ex.context.slice(p.best.start, p.best.end));
  });
  return { features, exact, answered, textEqual, withAnswer, windowsHoldingAnswer };
}

test('SQuAD v2.0 dev (5 articles): answers -> pieces -> exact context spans, across stride windows', (t) => {
  const path = sharedData('squad/dev-v2.0.first5articles.json');
  if (tok === undefined || path === undefined) return t.skip('shared data missing');
  const examples = readSquad(path);
  const answerable = examples.filter((e) => !e.is_impossible);
  // Default 384/128: every answer lands in some window.
  const big = checkRoundTrip(answerable, { max_seq_length: 384, doc_stride: 128 });
  assert.ok(big.answered >= answerable.length);
  // Small windows force answers into the second, third, ... window.
  const small = checkRoundTrip(answerable, { max_seq_length: 64, doc_stride: 16 });
  assert.ok(small.windowsHoldingAnswer.some((w) => w === 1));
  assert.ok(small.windowsHoldingAnswer.some((w) => w === 2));
  assert.ok(small.windowsHoldingAnswer.some((w) => w >= 3));
  for (const r of [big, small]) {
    // Answers that start or end inside a word piece cannot be reproduced exactly; they are rare.
    assert.ok(r.exact / r.answered > 0.97, `${r.exact}/${r.answered}`);
    assert.ok(r.textEqual / r.withAnswer > 0.97, `${r.textEqual}/${r.withAnswer}`);
  }
  // Impossible questions point at [CLS] in every window.
  const impossible = examples.filter((e) => e.is_impossible).slice(0, 20);
  const { features } = buildSquadFeatures(tok, impossible, { training: true });
  assert.ok(features.every((f) => f.start_position === 0 && f.end_position === 0));
});

test('SQuAD v1.1 dev: the first 300 questions round-trip, windows of 128 / stride 32', (t) => {
  const path = sharedData('squad/dev-v1.1.json');
  if (tok === undefined || path === undefined) return t.skip('shared data missing');
  const examples = readSquad(path).slice(0, 300);
  const r = checkRoundTrip(examples, { max_seq_length: 128, doc_stride: 32 });
  assert.ok(r.windowsHoldingAnswer.some((w) => w >= 2));
  // The 10 misses are answers inside one piece: "gold" of "golden", "8" of "18", "10." of "2010.".
  assert.equal(r.textEqual, 290);
  assert.equal(r.withAnswer, 300);
});

test('SQuAD by hand: windows, targets, max-context, n-best, null score and threshold', (t) => {
  if (tok === undefined) return t.skip('shared vocab missing');
  // 20 one-piece words; question "where?" is 2 pieces, so max_seq 16 leaves 11 context pieces.
  const words = 'alpha beta gamma delta one two three four five six seven eight nine ten paris london rome berlin oslo bern'.split(' ');
  const context = words.join(' ');
  const at = context.indexOf('london');
  const ex: SquadExample = { id: 'q', question: 'where?', context, answers: [{ text: 'london rome', answer_start: at }], is_impossible: false, where: 'x' };
  const { features } = buildSquadFeatures(tok, [ex], { training: true, max_seq_length: 16, doc_stride: 4 });
  // Windows start at context pieces 0, 4, 8, 12 (the last covers 12..19).
  assert.deepEqual(features.map((f) => f.offsets.find((o) => o !== null)![0]), [0, 4, 8, 12].map((w) => context.indexOf(words[w]!)));
  // 'london' is piece 15: only windows 8..18 and 12..19 hold 'london rome' (pieces 15, 16).
  assert.deepEqual(features.map((f) => [f.start_position, f.end_position]), [[0, 0], [0, 0], [11, 12], [7, 8]]);
  // Piece 15 scores min(7, 3) + 0.01 * 11 in window 2 and min(3, 4) + 0.01 * 8 in window 3: window 2 is its max context.
  assert.equal(features[2]!.token_is_max_context[11], true);
  assert.equal(features[3]!.token_is_max_context[7], false);
  // Logits favouring the span in the window where it is not max-context are ignored there.
  const logits = features.map((f) => ({ start: new Float64Array(f.input_ids.length), end: new Float64Array(f.input_ids.length) }));
  logits[3]!.start[7] = 9;
  logits[3]!.end[8] = 9;
  logits[2]!.start[11] = 5;
  logits[2]!.end[12] = 5;
  logits[2]!.start[0] = 1;
  logits[2]!.end[0] = 1;
  logits[0]!.start[0] = -3;
  const p = postprocessSquad([ex], features, logits, { n_best_size: 5, max_answer_length: 30 })[0]!;
  assert.equal(p.best.text, 'london rome');
  assert.equal(p.best.score, 10); // window 2's pair, 5 + 5
  assert.equal(p.null_score, -3); // min over windows of start[CLS] + end[CLS]
  assert.ok(Math.abs(p.nbest.reduce((a, c) => a + c.probability, 0) - 1) < 1e-12);
  assert.equal(new Set(p.nbest.map((c) => c.text)).size, p.nbest.length);
  // max_answer_length 1 rules the two-piece span out.
  const short = postprocessSquad([ex], features, logits, { max_answer_length: 1 })[0]!;
  assert.notEqual(short.best.text, 'london rome');
  // v2.0: null_score - best = -13; below a threshold of -14 the question is answered with ''.
  assert.deepEqual(squadV2Answers([p], 0).answers, { q: 'london rome' });
  assert.deepEqual(squadV2Answers([p], -14).answers, { q: '' });
  assert.equal(squadV2Answers([p]).null_odds.get('q'), -13);
});

test('SQuAD features: a mismatched answer is an error; an answer on no piece is a counted skip', (t) => {
  if (tok === undefined) return t.skip('shared vocab missing');
  const ex = (text: string, answer_start: number): SquadExample => ({ id: 'q', question: 'q?', context: 'Paris is  big.', answers: [{ text, answer_start }], is_impossible: false, where: 'f.json: question q' });
  assert.throws(() => buildSquadFeatures(tok, [ex('Rome', 0)], { training: true }), (e: unknown) => e instanceof BertError && /does not match its span "Pari"/.test(e.message) && e.where === 'f.json: question q');
  const r = buildSquadFeatures(tok, [ex(' ', 9)], { training: true });
  assert.equal(r.features.length, 0);
  assert.equal(r.skipped.length, 1);
  // At evaluation time answers are not used for targets.
  assert.equal(buildSquadFeatures(tok, [ex('Rome', 0)], { training: false }).features.length, 1);
});
