import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  accuracy,
  entityScores,
  f1Binary,
  f1Macro,
  getEntities,
  glueMetrics,
  matthewsCorrcoef,
  normalizeAnswer,
  pearson,
  spearman,
  squadV1,
  squadV2,
  type SquadArticle,
} from '../src/train/metrics/index.ts';
import { sharedData } from './helpers/shared-data.ts';

// Fixtures written by scripts/make_metric_fixtures.py from sklearn/scipy, the official SQuAD
// scripts, conlleval.pl and seqeval.
const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../fixtures/metrics/${name}`, import.meta.url), 'utf8'));

function close(actual: number, expected: number, tol = 1e-12, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} != ${expected}`);
}

test('classification metrics by hand', () => {
  const labels = [1, 1, 1, 0, 0, 0, 1, 0];
  const preds = [1, 1, 0, 0, 1, 0, 1, 0];
  // tp 3, fp 1, fn 1, tn 3
  assert.equal(accuracy(preds, labels), 6 / 8);
  assert.equal(f1Binary(preds, labels), 6 / 8); // 2tp / (2tp + fp + fn)
  assert.equal(f1Macro(preds, labels), 6 / 8); // class 0 is symmetric here
  close(matthewsCorrcoef(preds, labels), (3 * 3 - 1 * 1) / Math.sqrt(4 * 4 * 4 * 4));
  assert.equal(matthewsCorrcoef([0, 0, 0, 0], [0, 1, 0, 1]), 0);
  assert.equal(f1Binary([0, 0], [0, 0]), 0);
});

test('correlations by hand, ties get average ranks', () => {
  close(pearson([1, 2, 3], [2, 4, 6]), 1);
  close(pearson([1, 2, 3], [3, 2, 1]), -1);
  // x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4: r = 4.5 / sqrt(4.5 * 5)
  close(spearman([1, 2, 2, 3], [10, 20, 30, 40]), 4.5 / Math.sqrt(4.5 * 5));
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
});

test('classification metrics match sklearn', () => {
  const { classification, regression } = fixture('classification.json');
  for (const c of classification) {
    close(accuracy(c.preds, c.labels), c.accuracy, 1e-12, 'accuracy');
    if (c.f1_binary !== null) close(f1Binary(c.preds, c.labels), c.f1_binary, 1e-12, 'f1');
    close(f1Macro(c.preds, c.labels), c.f1_macro, 1e-12, 'macro f1');
    close(matthewsCorrcoef(c.preds, c.labels), c.mcc, 1e-12, 'mcc');
  }
  for (const r of regression) {
    close(pearson(r.x, r.y), r.pearson, 1e-12, 'pearson');
    close(spearman(r.x, r.y), r.spearman, 1e-12, 'spearman');
  }
  assert.equal(classification.length, 9);
});

test('glueMetrics picks each task metric', () => {
  assert.deepEqual(Object.keys(glueMetrics('cola', [0, 1], [0, 1])), ['mcc']);
  assert.deepEqual(glueMetrics('mrpc', [1, 1, 0, 0], [1, 0, 0, 0]), { acc_and_f1: (0.75 + 2 / 3) / 2, acc: 0.75, f1: 2 / 3 });
  const s = glueMetrics('stsb', [1, 2, 3], [1, 2, 3.5]);
  close(s.spearmanr!, 1);
  assert.deepEqual(glueMetrics('rte', [1, 0], [1, 1]), { acc: 0.5 });
});

test('SQuAD normalisation by hand', () => {
  assert.equal(normalizeAnswer('The  Denver Broncos!'), 'denver broncos');
  assert.equal(normalizeAnswer('theater an-apple'), 'theater anapple');
  assert.equal(normalizeAnswer('a\u00a0cat'), 'cat');
  assert.equal(normalizeAnswer('éthe'), 'éthe'); // Python's \b is Unicode-aware: é is a word character
  assert.equal(normalizeAnswer('“x”'), '“x”'); // string.punctuation is ASCII only
});

test('SQuAD v1.1 matches evaluate-v1.1.py on the fixture', () => {
  const f = fixture('squad_v1.json');
  for (const q of f.per_question) {
    assert.equal(normalizeAnswer(q.prediction), q.normalized, q.prediction);
    const one = squadV1([{ paragraphs: [{ qas: [{ id: 'x', answers: q.golds.map((text: string) => ({ text })) }] }] }], {
      x: q.prediction,
    });
    assert.equal(one.exact_match, q.exact ? 100 : 0, q.prediction);
    close(one.f1, 100 * q.f1, 1e-9, q.prediction);
  }
  const all = squadV1(f.dataset, f.predictions);
  close(all.exact_match, f.expected.exact_match);
  close(all.f1, f.expected.f1);
  assert.equal(all.missing, 1);
});

test('SQuAD v2.0 matches evaluate-v2.0.py, threshold search included', () => {
  const f = fixture('squad_v2.json');
  const naProbs = new Map<string, number>(f.na_probs_in_order);
  for (const c of f.cases) {
    const got = squadV2(f.dataset, f.predictions, c.use_na_probs ? naProbs : undefined, c.na_prob_thresh);
    for (const [k, v] of Object.entries(c.expected)) close((got as any)[k], v as number, 1e-9, k);
    assert.equal(Object.keys(got).length, Object.keys(c.expected).length + 1); // + missing
  }
});

test('SQuAD v2.0 best threshold by hand', () => {
  const data: SquadArticle[] = [
    {
      paragraphs: [
        {
          qas: [
            { id: 'h1', answers: [{ text: 'cat' }] },
            { id: 'h2', answers: [{ text: 'dog' }] },
            { id: 'n1', answers: [] },
          ],
        },
      ],
    },
  ];
  const preds = { h1: 'cat', h2: 'cow', n1: 'bird' };
  // Start at 1 (n1 right by abstaining). Admit h1 (p .1): 2. h2 (p .5): 2. n1 (p .8): 1.
  const r = squadV2(data, preds, new Map([['h1', 0.1], ['h2', 0.5], ['n1', 0.8]]));
  close(r.best_exact!, 200 / 3);
  assert.equal(r.best_exact_thresh, 0.1);
  assert.equal(r.exact, 100 / 3);
  assert.equal(r.NoAns_exact, 0);
});

test('SQuAD v1.1: BERT ensemble dev predictions score EM 86.2062 / F1 92.1956', (t) => {
  const dev = sharedData('squad/dev-v1.1.json');
  const preds = sharedData('squad/predictions-v1.1-dev-bert-ensemble.json');
  if (dev === undefined || preds === undefined) return t.skip('shared SQuAD data missing');
  const r = squadV1(JSON.parse(readFileSync(dev, 'utf8')).data, JSON.parse(readFileSync(preds, 'utf8')));
  assert.equal(r.exact_match, 86.20624408703878);
  assert.equal(r.f1, 92.19557978351145);
  assert.equal(r.missing, 0);
});

test('entities by hand: I- after O starts an entity, BIOES S/E close one', () => {
  assert.deepEqual(getEntities(['B-PER', 'I-PER', 'O', 'I-LOC', 'I-ORG']), [
    { type: 'PER', start: 0, end: 1 },
    { type: 'LOC', start: 3, end: 3 },
    { type: 'ORG', start: 4, end: 4 },
  ]);
  assert.deepEqual(getEntities(['S-PER', 'S-PER', 'B-LOC', 'E-LOC', 'B-LOC', 'I-LOC', 'E-LOC']), [
    { type: 'PER', start: 0, end: 0 },
    { type: 'PER', start: 1, end: 1 },
    { type: 'LOC', start: 2, end: 3 },
    { type: 'LOC', start: 4, end: 6 },
  ]);
  const r = entityScores([['B-PER', 'I-PER', 'O', 'B-LOC']], [['B-PER', 'O', 'O', 'B-LOC']]);
  assert.equal(r.correct, 1);
  assert.equal(r.f1, 0.5);
  assert.deepEqual(r.per_type.PER, { precision: 0, recall: 0, f1: 0, support: 1, predicted: 1, correct: 0 });
  assert.throws(() => getEntities(['X-PER']), /invalid tag/);
});

test('entities match seqeval, and conlleval on IOB2', () => {
  const cases = fixture('entities.json');
  let compared = 0;
  for (const c of cases) {
    const r = entityScores(c.gold, c.pred);
    const ents = getEntities(c.gold as string[][]).map((e) => [e.type, e.start, e.end]);
    assert.deepEqual(ents, c.seqeval_entities_gold);
    for (const k of ['precision', 'recall', 'f1']) close((r as any)[k], c.seqeval[k], 1e-12, k);
    for (const k of ['support', 'predicted', 'correct']) assert.equal((r as any)[k], c.seqeval[k], k);
    assert.deepEqual(Object.keys(r.per_type), Object.keys(c.seqeval.per_type));
    for (const [t, s] of Object.entries(c.seqeval.per_type)) {
      for (const [k, v] of Object.entries(s as Record<string, number>)) close((r.per_type[t] as any)[k], v, 1e-12, `${t} ${k}`);
    }
    if (c.conlleval) {
      compared++;
      assert.equal(r.correct, c.conlleval.correct);
      assert.equal(r.predicted, c.conlleval.predicted);
      assert.equal(r.support, c.conlleval.support);
      close(100 * r.precision, c.conlleval.precision_pct_2dp, 0.005 + 1e-9);
      close(100 * r.f1, c.conlleval.f1_2dp, 0.005 + 1e-9);
      for (const [t, s] of Object.entries(c.conlleval.per_type) as Array<[string, any]>) {
        assert.equal(r.per_type[t]!.predicted, s.predicted, t);
        close(100 * r.per_type[t]!.recall, s.recall_pct_2dp, 0.005 + 1e-9, t);
      }
    }
  }
  assert.equal(compared, 5);
});
