import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildLabelMap,
  buildTagMap,
  GLUE_LAYOUTS,
  LabelMap,
  readColumns,
  readConll,
  readGlue,
  readSquad,
  readSwag,
  type GlueTaskName,
} from '../src/data/tasks/index.ts';
import { BertError } from '../src/errors.ts';
import { sharedData } from './helpers/shared-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'bert-tasks-'));
let n = 0;
function file(name: string, text: string): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
}
function throwsAt(fn: () => unknown, where: RegExp, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BertError, String(e));
    assert.match(e.where ?? '', where);
    assert.match(e.message, message);
    return true;
  });
}

test('GLUE layouts: CoLA has no header, MRPC a BOM, quotes are plain characters', () => {
  const cola = readGlue('cola', file('cola.tsv', 'gj04\t1\t\tThe sailors rode.\ngj04\t0\t*\t"Bad" sentence'));
  assert.deepEqual(cola.map((e) => [e.text_a, e.label]), [['The sailors rode.', '1'], ['"Bad" sentence', '0']]);
  assert.match(cola[1]!.where, /:2$/);
  const mrpc = readGlue('mrpc', file('mrpc.tsv', '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t" A\tB "\n'));
  assert.deepEqual(mrpc[0], { text_a: '" A', text_b: 'B "', label: '1', where: mrpc[0]!.where });
  const mnliHeader = ['index', 'promptID', 'pairID', 'genre', 's1bp', 's2bp', 's1p', 's2p', 'sentence1', 'sentence2', 'label1', 'label2', 'label3', 'label4', 'label5', 'gold_label'];
  const mnliRow = ['0', '1', '2', 'g', '', '', '', '', 'A premise', 'A hypothesis', 'neutral', 'neutral', 'entailment', 'neutral', 'neutral', 'neutral'];
  const mnli = readGlue('mnli', file('mnli.tsv', `${mnliHeader.join('\t')}\n${mnliRow.join('\t')}\n`));
  assert.deepEqual([mnli[0]!.text_a, mnli[0]!.text_b, mnli[0]!.label], ['A premise', 'A hypothesis', 'neutral']);
});

test('GLUE errors: missing column and empty file name file:line', () => {
  throwsAt(() => readGlue('rte', file('rte.tsv', 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n')), /rte\.tsv:3$/, /3 TAB-separated columns/);
  throwsAt(() => readGlue('sst2', file('empty.tsv', '')), /empty\.tsv$/, /empty file/);
  throwsAt(() => readGlue('stsb', file('stsb.tsv', `${'h\t'.repeat(9)}h\n${'x\t'.repeat(9)}high\n`)), /:2$/, /not a number/);
});

test('label maps: GLUE canonical order, sorted otherwise, unknown dev label names its line', () => {
  const train = readGlue('rte', file('rte.tsv', 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tnot_entailment\n1\tc\td\tentailment\n'));
  const map = buildLabelMap(train, GLUE_LAYOUTS.rte.labels);
  assert.deepEqual(map.labels, ['entailment', 'not_entailment']);
  assert.deepEqual(map.toConfig(), { id2label: { 0: 'entailment', 1: 'not_entailment' }, label2id: { entailment: 0, not_entailment: 1 } });
  assert.deepEqual(LabelMap.fromConfig(map.toConfig()).labels, map.labels);
  const dev = readGlue('rte', file('rte-dev.tsv', 'index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\tcontradiction\n'));
  throwsAt(() => dev.map((e) => map.id(e.label, e.where)), /rte-dev\.tsv:3$/, /"contradiction" is not one of the training labels/);
  const ex = (labels: string[]) => labels.map((label, i) => ({ label, where: `f:${i}` }));
  assert.deepEqual(buildLabelMap(ex(['pos', 'neg', 'neutral', 'neg'])).labels, ['neg', 'neutral', 'pos']);
  assert.deepEqual(buildLabelMap(ex(['10', '2', '1'])).labels, ['1', '2', '10']);
  throwsAt(() => buildLabelMap(ex(['0', '2']), ['0', '1']), /^f:1$/, /"2"/);
  assert.deepEqual(buildTagMap([{ tags: ['O', 'B-PER', 'I-PER'], where: 'x' }]).labels, ['B-PER', 'I-PER', 'O']);
});

test('generic CSV / TSV / JSONL with column options', () => {
  const csv = readColumns(file('d.csv', 'id,review,label\n1,"Good, ""really"" good",pos\n2,"two\nlines",neg\n'), { textColumn: 'review' });
  assert.deepEqual(csv.map((e) => [e.text_a, e.label]), [['Good, "really" good', 'pos'], ['two\nlines', 'neg']]);
  assert.match(csv[1]!.where, /:3$/);
  const jsonl = readColumns(file('d.jsonl', '{"sentence1":"a","sentence2":"b","label":1}\n\n{"sentence1":"c","sentence2":"d","label":0}\n'));
  assert.deepEqual(jsonl.map((e) => [e.text_a, e.text_b, e.label]), [['a', 'b', '1'], ['c', 'd', '0']]);
  const tsv = readColumns(file('d.tsv', 'q\tp\ty\nx\ty\t1\n'), { textColumn: 'q', textPairColumn: 'p', labelColumn: 'y' });
  assert.deepEqual([tsv[0]!.text_a, tsv[0]!.text_b, tsv[0]!.label], ['x', 'y', '1']);
  throwsAt(() => readColumns(file('m.tsv', 'text\tlabel\na\t1\nb\n')), /m\.tsv:3$/, /no value for column "label"/);
  throwsAt(() => readColumns(file('m.jsonl', '{"text":"a","label":1}\n{"text":"b"}\n')), /m\.jsonl:2$/, /"label"/);
  throwsAt(() => readColumns(file('c.csv', 'text,label\na,1\n'), { textColumn: 'review' }), /c\.csv$/, /no text column "review"/);
  throwsAt(() => readColumns(file('e.jsonl', '\n')), /e\.jsonl$/, /empty file/);
});

test('CoNLL: last column is the tag, -DOCSTART- and TAB-only lines split sentences', () => {
  const conll = readConll(file('c.txt', '-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n'));
  assert.deepEqual(conll.map((s) => [s.words, s.tags]), [[['EU', 'rejects'], ['B-ORG', 'O']], [['Peter'], ['B-PER']]]);
  assert.match(conll[1]!.where, /:6$/);
  const wnut = readConll(file('w.conll', '@paul\tO\nIt\tO\n\t\nLondon\tB-location\n'));
  assert.deepEqual(wnut.map((s) => s.words), [['@paul', 'It'], ['London']]);
  throwsAt(() => readConll(file('bad.conll', 'a\tO\nb\n')), /bad\.conll:2$/, /word and a tag/);
});

test('SQuAD JSON: examples, impossible questions, a mismatched answer is an error', () => {
  const data = (answerText: string) =>
    JSON.stringify({ version: 'v2.0', data: [{ title: 't', paragraphs: [{ context: 'Paris is in France.', qas: [
      { id: 'a', question: 'Where?', answers: [{ text: answerText, answer_start: 12 }] },
      { id: 'b', question: 'Who?', answers: [], is_impossible: true, plausible_answers: [{ text: 'Paris', answer_start: 0 }] },
    ] }] }] });
  const ex = readSquad(file('s.json', data('France')));
  assert.deepEqual(ex[0], { id: 'a', question: 'Where?', context: 'Paris is in France.', answers: [{ text: 'France', answer_start: 12 }], is_impossible: false, where: ex[0]!.where });
  assert.equal(ex[1]!.is_impossible, true);
  assert.deepEqual(ex[1]!.answers, []);
  throwsAt(() => readSquad(file('bad.json', data('Germany'))), /bad\.json$/, /"Germany" does not match its span "France\."/);
});

test('SWAG CSV', () => {
  const swag = readSwag(file('s.csv', 'video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\nv,1,"He sits. He","He sits.",He,gold,runs,"eats, quickly",sleeps,reads,1\n'));
  assert.deepEqual(swag[0], { context: 'He sits.', start: 'He', endings: ['runs', 'eats, quickly', 'sleeps', 'reads'], label: 1, where: swag[0]!.where });
  throwsAt(() => readSwag(file('b.csv', 'sent1,sent2,ending0,ending1,label\na,b,c,d,4\n')), /b\.csv:2$/, /not an ending index/);
});

const GLUE_FILES: Array<[GlueTaskName, string, number, number]> = [
  ['cola', 'CoLA', 8551, 1043],
  ['sst2', 'SST-2', 67349, 872],
  ['mrpc', 'MRPC', 3668, 408],
  ['rte', 'RTE', 2490, 277],
  ['stsb', 'STS-B', 5749, 1500],
  ['wnli', 'WNLI', 635, 71],
];

test('real GLUE files: published split sizes, labels in canonical order', (t) => {
  for (const [task, folder, trainRows, devRows] of GLUE_FILES) {
    const train = sharedData(`glue/${folder}/train.tsv`);
    const dev = sharedData(`glue/${folder}/dev.tsv`);
    if (train === undefined || dev === undefined) return t.skip('shared GLUE data missing');
    const tr = readGlue(task, train);
    const dv = readGlue(task, dev);
    assert.equal(tr.length, trainRows, task);
    assert.equal(dv.length, devRows, task);
    const canonical = GLUE_LAYOUTS[task].labels;
    if (canonical !== undefined) {
      const map = buildLabelMap(tr, canonical);
      for (const e of dv) map.id(e.label, e.where);
    }
  }
  const qnli = sharedData('glue/QNLI/dev.tsv');
  if (qnli !== undefined) assert.equal(readGlue('qnli', qnli).length, 5463);
  const mrpc = readGlue('mrpc', sharedData('glue/MRPC/dev.tsv')!);
  assert.equal(mrpc[0]!.label, '1');
  assert.match(mrpc[0]!.text_a, /^He said the foodservice pie business/);
});

test('real CoNLL-2003 and WNUT-17 files: sentence and token counts', (t) => {
  const files: Array<[string, number, number]> = [
    ['conll2003/valid.txt', 3250, 51362],
    ['wnut17/wnut17train.conll', 3394, 62730],
    ['wnut17/emerging.dev.conll', 1009, 15733],
  ];
  for (const [path, sentences, tokens] of files) {
    const p = sharedData(path);
    if (p === undefined) return t.skip('shared NER data missing');
    const s = readConll(p);
    assert.equal(s.length, sentences, path);
    assert.equal(s.reduce((a, x) => a + x.words.length, 0), tokens, path);
  }
  const starts = readConll(sharedData('conll2003/valid.txt')!).flatMap((s) => s.tags).filter((t) => t === 'B-PER').length;
  assert.equal(starts, 1842);
});

test('real SQuAD files read completely', (t) => {
  const v1 = sharedData('squad/dev-v1.1.json');
  const v2 = sharedData('squad/dev-v2.0.first5articles.json');
  if (v1 === undefined || v2 === undefined) return t.skip('shared SQuAD data missing');
  assert.equal(readSquad(v1).length, 10570);
  const ex2 = readSquad(v2);
  assert.equal(ex2.filter((e) => e.is_impossible).length, 702);
  assert.ok(ex2.every((e) => e.is_impossible === (e.answers.length === 0)));
});
