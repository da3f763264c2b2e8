// bert serve with the real tiny model (fixtures/bert-tiny, random weights, 99-token vocab): the CLI
// as a process (listen, answer, SIGTERM -> drain -> exit 0), and each head's route in-process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadCheckpoint } from '../src/checkpoint/folder.ts';
import { loadInferenceModel } from '../src/inference/pipeline.ts';
import { createServer } from '../src/server/app.ts';
import { runCli } from './helpers/cli-in-process.ts';
import { FIXTURE, tinyHeadFolder, tinyModelFolder } from './helpers/tiny-model.ts';

const CLI = new URL('./helpers/bert-cli.ts', import.meta.url).pathname;

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Starts `bert serve` and resolves with its URL once it prints "listening on". */
function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; stdout: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stdout: () => out, exit });
    });
    void exit.then((code) => reject(new Error(`bert serve exited ${code} before listening:\n${out}\n${err}`)));
  });
}

describe('bert serve (CLI) on the tiny BertForPreTraining', () => {
  let server: Awaited<ReturnType<typeof startCli>>;
  before(async () => {
    server = await startCli(['--model', tinyModelFolder(), '--port', '0', '--max-wait-ms', '10', '--log']);
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  test('binds loopback; /info names the fill-mask task and the 64-token limit', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const info = (await (await fetch(`${server.url}/info`)).json()) as Record<string, unknown>;
    assert.equal(info.task, 'fill-mask');
    assert.equal(info.max_input_length, 64);
    assert.equal(info.model_dtype, 'float32');
    assert.deepEqual(info.architectures, ['BertForPreTraining']);
  });

  test('/embed: unit vectors of hidden_size 32, equal to the library call', async () => {
    const { status, json } = await post(`${server.url}/embed`, { inputs: ['w17 w18', 'w20'] });
    assert.equal(status, 200);
    assert.equal(json.length, 2);
    const model = await loadInferenceModel(tinyModelFolder(), { log: () => {} });
    const direct = await model.embed(['w17 w18', 'w20'], { pooling: 'cls', normalize: true });
    await model.dispose();
    json.forEach((v: number[], i: number) => {
      assert.equal(v.length, 32);
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
      v.forEach((x, j) => assert.ok(Math.abs(x - direct[i]![j]!) < 1e-5));
    });
  });

  test('/tokenize: vocabulary ids and character spans', async () => {
    const { json } = await post(`${server.url}/tokenize`, { inputs: 'w17 w18' });
    assert.deepEqual(json, [
      [
        { id: 2, text: '[CLS]', special: true, start: null, stop: null },
        { id: 17, text: 'w17', special: false, start: 0, stop: 3 },
        { id: 18, text: 'w18', special: false, start: 4, stop: 7 },
        { id: 3, text: '[SEP]', special: true, start: null, stop: null },
      ],
    ]);
  });

  test('/fill-mask: top_k predictions, scores descending, each a vocabulary token', async () => {
    const { status, json } = await post(`${server.url}/fill-mask`, { inputs: 'w17 [MASK] w19', top_k: 3 });
    assert.equal(status, 200);
    assert.equal(json.length, 1);
    const preds = json[0] as Array<{ score: number; token: number; token_str: string; sequence: string }>;
    assert.equal(preds.length, 3);
    for (let i = 1; i < 3; i++) assert.ok(preds[i - 1]!.score >= preds[i]!.score);
    for (const p of preds) {
      assert.ok(p.score > 0 && p.score < 1);
      assert.equal(p.sequence, `w17 ${p.token_str} w19`);
    }
  });

  test('absent head: 404 naming the architecture; over-long input: 413', async () => {
    const predict = await post(`${server.url}/predict`, { inputs: 'w17' });
    assert.deepEqual(predict, { status: 404, json: { error: 'this model has no sequence-classification head (architectures: BertForPreTraining)', error_type: 'not_found' } });
    const long = await post(`${server.url}/embed`, { inputs: 'w17 '.repeat(70) });
    assert.deepEqual(long, { status: 413, json: { error: '`inputs` must have less than 64 tokens. Given: 72', error_type: 'validation' } });
    const cut = await post(`${server.url}/embed`, { inputs: 'w17 '.repeat(70), truncate: true });
    assert.equal(cut.status, 200);
  });

  test('20 concurrent requests are merged into fewer model calls', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const calls0 = Number(/^bert_batch_size_count\{op="embed"\} (\d+)/m.exec(before)?.[1] ?? 0);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`${server.url}/embed`, { inputs: `w${5 + i} w${6 + i}` })));
    for (const r of results) assert.equal(r.status, 200);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const calls = Number(/^bert_batch_size_count\{op="embed"\} (\d+)/m.exec(text)![1]) - calls0;
    assert.ok(calls >= 1 && calls < 20, `20 requests took ${calls} model calls`);
  });

  test('SIGTERM: the request already received is answered, then the process exits 0', async () => {
    // --log prints each request as it arrives: signal only once this one is in (earlier tests logged others).
    const arrived = (): number => server.stdout().split('"url":"/embed"').length;
    const seen = arrived();
    const inflight = post(`${server.url}/embed`, { inputs: Array.from({ length: 256 }, (_, i) => `w${5 + (i % 90)} `.repeat(30)) });
    while (arrived() === seen) await new Promise((r) => setTimeout(r, 2));
    server.child.kill('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(res.json.length, 256);
    assert.equal(await server.exit, 0);
    assert.match(server.stdout(), /SIGTERM: no new connections/);
    assert.match(server.stdout(), /bert serve: stopped/);
  });
});

describe('bert serve flag and start-up errors: exit 2 with a message', () => {
  const cli = async (args: string[]) => {
    const { code, stderr } = await runCli(args);
    return { code, stderr };
  };

  test('bad flags', async () => {
    const dir = tinyModelFolder();
    assert.deepEqual(await cli(['serve', '--model', dir, '--port', 'http']), { code: 2, stderr: 'bert: error: --port must be a non-negative integer, got "http"\n' });
    assert.deepEqual(await cli(['serve', '--model', dir, '--max-batch-size', '0']), { code: 2, stderr: 'bert: error: --max-batch-size must be a positive integer, got "0"\n' });
    assert.deepEqual(await cli(['serve', '--model', dir, '--pooling', 'max']), { code: 2, stderr: 'bert: error: --pooling must be cls or mean, got "max"\n' });
    assert.deepEqual(await cli(['serve', '--model', dir, '--quantize', 'int4']), { code: 2, stderr: 'bert: error: --quantize must be int8, got "int4"\n' });
  });

  test('a port already taken', async () => {
    const model = await loadInferenceModel(tinyModelFolder(), { log: () => {} });
    const busy = createServer(model);
    const url = await busy.listen({ port: 0 });
    try {
      const port = new URL(url).port;
      const { code, stderr } = await cli(['serve', '--model', tinyModelFolder(), '--port', port]);
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(`^bert: error: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      await busy.close();
      await model.dispose();
    }
  });
});

describe('head routes with the real tiny model (random heads)', () => {
  const weights = loadCheckpoint(FIXTURE);
  const H = 32;

  test('/predict matches model.classify, labels from id2label', async () => {
    const model = await loadInferenceModel(
      tinyHeadFolder(weights.tensors, 'BertForSequenceClassification', { 'classifier.weight': [3, H], 'classifier.bias': [3] }, ['neg', 'neu', 'pos']),
      { log: () => {} },
    );
    const server = createServer(model, { tokenizer: model.tokenizer });
    const url = await server.listen({ port: 0 });
    try {
      const { status, json } = await post(`${url}/predict`, { inputs: [['w17 w18'], ['w20', 'w21 w22']] });
      assert.equal(status, 200);
      const direct = await model.classify(['w17 w18', ['w20', 'w21 w22']]);
      assert.equal(json.length, 2);
      json.forEach((preds: Array<{ label: string; score: number }>, i: number) => {
        assert.deepEqual(new Set(preds.map((p) => p.label)), new Set(['neg', 'neu', 'pos']));
        assert.ok(Math.abs(preds.reduce((a, p) => a + p.score, 0) - 1) < 1e-5);
        assert.equal(preds[0]!.label, direct[i]![0]!.label);
        assert.ok(Math.abs(preds[0]!.score - direct[i]![0]!.score) < 1e-6);
      });
      // raw_scores: the logits, whose softmax gives back the probabilities above
      const raw = await post(`${url}/predict`, { inputs: ['w17 w18'], raw_scores: true });
      assert.equal(raw.status, 200);
      const logits = raw.json as Array<{ label: string; score: number }>;
      assert.ok(Math.abs(logits.reduce((a, p) => a + p.score, 0) - 1) > 1e-3, 'raw scores are not probabilities');
      const z = logits.reduce((a, p) => a + Math.exp(p.score), 0);
      for (const p of logits) {
        const prob = direct[0]!.find((d) => d.label === p.label)!.score;
        assert.ok(Math.abs(Math.exp(p.score) / z - prob) < 1e-5, `${p.label}: softmax(raw) ${Math.exp(p.score) / z} vs ${prob}`);
      }
      assert.deepEqual(logits.map((p) => p.score), [...logits.map((p) => p.score)].sort((a, b) => b - a));
    } finally {
      await server.close();
      await model.dispose();
    }
  });

  test('/token-classification spans and /question-answering answers index the input text', async () => {
    const tc = await loadInferenceModel(
      tinyHeadFolder(weights.tensors, 'BertForTokenClassification', { 'classifier.weight': [3, H], 'classifier.bias': [3] }, ['O', 'B-X', 'I-X']),
      { log: () => {} },
    );
    const qa = await loadInferenceModel(tinyHeadFolder(weights.tensors, 'BertForQuestionAnswering', { 'qa_outputs.weight': [2, H], 'qa_outputs.bias': [2] }), { log: () => {} });
    const s1 = createServer(tc, { tokenizer: tc.tokenizer });
    const s2 = createServer(qa, { tokenizer: qa.tokenizer });
    const [u1, u2] = [await s1.listen({ port: 0 }), await s2.listen({ port: 0 })];
    try {
      const text = 'w17 w18 w19 w20 w21';
      const ents = await post(`${u1}/token-classification`, { inputs: text });
      assert.equal(ents.status, 200);
      for (const e of ents.json as Array<{ word: string; start: number; end: number }>) assert.equal(text.slice(e.start, e.end), e.word);
      const context = 'w30 w31 w32 w33 w34 w35';
      const ans = await post(`${u2}/question-answering`, { inputs: { question: 'w30 w31', context } });
      assert.equal(ans.status, 200);
      assert.equal(context.slice(ans.json.start, ans.json.end), ans.json.answer);
      assert.ok(ans.json.score >= 0 && ans.json.score <= 1);
    } finally {
      await s1.close();
      await s2.close();
      await tc.dispose();
      await qa.dispose();
    }
  });
});
