// bert serve's HTTP API against a real server on loopback (port 0), with a fake model whose
// outputs are worked out by hand in test/helpers/server-fake-model.ts.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { InferenceTask } from '../src/inference/types.ts';
import { createServer, type BertServer, type ServerOptions } from '../src/server/app.ts';
import { Batcher, lengthBucket } from '../src/server/batcher.ts';
import { BertTokenizer } from '../src/tokenizer/bert-tokenizer.ts';
import { FakeModel } from './helpers/server-fake-model.ts';

interface Running {
  url: string;
  server: BertServer;
  model: FakeModel;
}

const open: BertServer[] = [];
after(async () => {
  for (const s of open) await s.close();
});

async function start(task: InferenceTask, opts: ServerOptions = {}, delayMs = 0): Promise<Running> {
  const model = new FakeModel(task, 16, delayMs);
  const server = createServer(model, { modelId: 'fake/bert', ...opts });
  open.push(server);
  const url = await server.listen({ port: 0 });
  return { url, server, model };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function close(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6, `element ${i}: ${x} vs ${expected[i]}`));
}

/** `name{labels} value` from Prometheus text. */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `no series ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('TEI routes on an embedding model', async () => {
  const tok = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '!', 'wo', '##rl', '##d'], true);
  const { url } = await start('feature-extraction', { tokenizer: tok });

  test('GET /health answers 200', async () => {
    const res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
  });

  test('GET /info has TEI fields', async () => {
    const info = (await (await fetch(`${url}/info`)).json()) as Record<string, unknown>;
    assert.equal(info.model_id, 'fake/bert');
    assert.equal(info.model_dtype, 'float32');
    assert.deepEqual(info.model_type, { embedding: { pooling: 'cls' } });
    assert.equal(info.max_input_length, 16);
    assert.equal(info.max_client_batch_size, 256);
    assert.equal(info.max_batch_tokens, 32 * 16);
    assert.equal(typeof info.version, 'string');
  });

  test('POST /embed: a string gives one vector, normalised by default', async () => {
    // "Hello big world": 3 words + [CLS] [SEP] = 5 tokens, 15 characters.
    const { status, json } = await post(`${url}/embed`, { inputs: 'Hello big world' });
    assert.equal(status, 200);
    assert.equal(json.length, 1);
    close(json[0], unit([5, 15, 1, 0]));
  });

  test('POST / is /embed for an embedding model, as in TEI', async () => {
    const { status, json } = await post(`${url}/`, { inputs: 'b c', normalize: false });
    assert.equal(status, 200);
    assert.deepEqual(json, [[4, 3, 1, 0]]);
  });

  test('POST /embed: a list, normalize false', async () => {
    const { status, json } = await post(`${url}/embed`, { inputs: ['a', 'b c'], normalize: false });
    assert.equal(status, 200);
    assert.deepEqual(json, [
      [3, 1, 1, 0],
      [4, 3, 1, 0],
    ]);
  });

  test('POST /tokenize: TEI tokens with character spans, specials without', async () => {
    const { status, json } = await post(`${url}/tokenize`, { inputs: ['Hello world!'] });
    assert.equal(status, 200);
    assert.deepEqual(json, [
      [
        { id: 2, text: '[CLS]', special: true, start: null, stop: null },
        { id: 5, text: 'Hello', special: false, start: 0, stop: 5 },
        { id: 6, text: 'world', special: false, start: 6, stop: 11 },
        { id: 7, text: '!', special: false, start: 11, stop: 12 },
        { id: 3, text: '[SEP]', special: true, start: null, stop: null },
      ],
    ]);
    const bare = await post(`${url}/tokenize`, { inputs: 'world', add_special_tokens: false });
    assert.deepEqual(bare.json, [[{ id: 6, text: 'world', special: false, start: 0, stop: 5 }]]);
  });

  test('POST /v1/embeddings: OpenAI list with usage; base64 decodes to the same floats', async () => {
    const { status, json } = await post(`${url}/v1/embeddings`, { input: ['a', 'b c'], model: 'my-model' });
    assert.equal(status, 200);
    assert.equal(json.object, 'list');
    assert.equal(json.model, 'my-model');
    assert.deepEqual(json.usage, { prompt_tokens: 7, total_tokens: 7 });
    assert.deepEqual(
      json.data.map((d: { object: string; index: number }) => [d.object, d.index]),
      [
        ['embedding', 0],
        ['embedding', 1],
      ],
    );
    close(json.data[1].embedding, unit([4, 3, 1, 0]));
    const b64 = await post(`${url}/v1/embeddings`, { input: 'b c', encoding_format: 'base64' });
    const bytes = Buffer.from(b64.json.data[0].embedding, 'base64');
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    close(floats, unit([4, 3, 1, 0]));
    assert.equal(b64.json.model, 'fake/bert');
  });

  test('routes for absent heads answer 404 saying why', async () => {
    const { status, json } = await post(`${url}/predict`, { inputs: 'x' });
    assert.equal(status, 404);
    assert.deepEqual(json, { error: 'this model has no sequence-classification head (architectures: BertModel)', error_type: 'not_found' });
    assert.match((await post(`${url}/fill-mask`, { inputs: 'x' })).json.error, /no masked-language-modeling head/);
    assert.match((await post(`${url}/token-classification`, { inputs: 'x' })).json.error, /no token-classification head/);
    assert.match((await post(`${url}/question-answering`, { inputs: { question: 'q', context: 'c' } })).json.error, /no question-answering head/);
  });

  test('GET /metrics counts requests by route and status', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.equal(metric(text, 'bert_request_count{route="/predict",method="POST",status="404"}'), 1);
    assert.ok(metric(text, 'bert_request_count{route="/embed",method="POST",status="200"}') >= 2);
    assert.ok(metric(text, 'bert_request_duration_seconds_count{route="/embed"}') >= 2);
    assert.equal(metric(text, 'bert_queue_size'), 0);
  });
});

describe('heads', async () => {
  test('POST /predict: single, pair and batch, scores sorted', async () => {
    const { url } = await start('text-classification');
    // "good good bad": P(POSITIVE) = (2 + 1) / (3 + 2) = 0.6.
    const single = await post(`${url}/predict`, { inputs: 'good good bad' });
    assert.equal(single.status, 200);
    close(
      single.json.map((p: { score: number }) => p.score),
      [0.6, 0.4],
    );
    assert.deepEqual(
      single.json.map((p: { label: string }) => p.label),
      ['POSITIVE', 'NEGATIVE'],
    );
    // A flat pair is one input, as TEI reads it: words "bad", "bad good" -> P = 2/5.
    const pair = await post(`${url}/predict`, { inputs: ['bad', 'bad good'] });
    assert.equal(pair.json.length, 2);
    assert.equal(pair.json[0].label, 'NEGATIVE');
    close([pair.json[0].score], [0.6]);
    assert.deepEqual((await post(`${url}/`, { inputs: 'good good bad' })).json, single.json);
    const batch = await post(`${url}/predict`, { inputs: [['good'], ['bad', 'worse']] });
    assert.equal(batch.json.length, 2);
    close([batch.json[0][0].score], [2 / 3]);
    close([batch.json[1][0].score], [3 / 4]);
    assert.equal(batch.json[1][0].label, 'NEGATIVE');
    const info = (await (await fetch(`${url}/info`)).json()) as Record<string, unknown>;
    assert.deepEqual(info.model_type, { classifier: { id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' }, label2id: { NEGATIVE: 0, POSITIVE: 1 } } });
  });

  test('POST /fill-mask: predictions per [MASK], top_k', async () => {
    const { url } = await start('fill-mask');
    const { status, json } = await post(`${url}/fill-mask`, { inputs: 'capital is [MASK] .', top_k: 2 });
    assert.equal(status, 200);
    assert.deepEqual(json, [
      [
        { score: 0.5, token: 10, token_str: 'paris', sequence: 'capital is paris .' },
        { score: 0.25, token: 11, token_str: 'london', sequence: 'capital is london .' },
      ],
    ]);
    const batch = await post(`${url}/fill-mask`, { inputs: ['[MASK] and [MASK]'], parameters: { top_k: 1 } });
    assert.equal(batch.json.length, 1);
    assert.equal(batch.json[0].length, 2);
    const none = await post(`${url}/fill-mask`, { inputs: 'no mask here' });
    assert.equal(none.status, 422);
    assert.deepEqual(none.json, { error: 'input 0 has no [MASK] token', error_type: 'tokenizer' });
  });

  test('POST /token-classification: entities with character spans', async () => {
    const { url } = await start('token-classification');
    const { status, json } = await post(`${url}/token-classification`, { inputs: 'met Ada in Paris' });
    assert.equal(status, 200);
    assert.deepEqual(json, [
      { entity_group: 'PER', score: 0.9, word: 'Ada', start: 4, end: 7 },
      { entity_group: 'PER', score: 0.9, word: 'Paris', start: 11, end: 16 },
    ]);
    const batch = await post(`${url}/token-classification`, { inputs: ['x', 'Bo'] });
    assert.deepEqual(batch.json, [[], [{ entity_group: 'PER', score: 0.9, word: 'Bo', start: 0, end: 2 }]]);
  });

  test('POST /question-answering: answer, span and score', async () => {
    const { url } = await start('question-answering');
    const context = 'the cat sat on the doormat';
    const { status, json } = await post(`${url}/question-answering`, { inputs: { question: 'where?', context } });
    assert.equal(status, 200);
    assert.deepEqual(json, { answer: 'doormat', score: 1, start: 19, end: 26 });
    assert.equal(context.slice(json.start, json.end), json.answer);
    const two = await post(`${url}/question-answering`, { inputs: [{ question: 'q', context: 'ab abc' }], top_k: 2 });
    assert.deepEqual(two.json, [
      [
        { answer: 'abc', score: 1, start: 3, end: 6 },
        { answer: 'ab', score: 0.5, start: 0, end: 2 },
      ],
    ]);
  });
});

describe('bad input: status and message', async () => {
  const { url, model } = await start('text-classification');

  const cases: Array<[string, string, unknown, number, RegExp, string]> = [
    ['malformed JSON', '/embed', '{"inputs": ', 400, /^malformed JSON/, 'validation'],
    ['body not an object', '/embed', [1, 2], 422, /request body must be a JSON object, got array/, 'validation'],
    ['missing inputs', '/embed', { input: 'x' }, 422, /missing field `inputs`/, 'validation'],
    ['inputs a number', '/embed', { inputs: 3 }, 422, /`inputs` must be a string or a list of strings, got number/, 'validation'],
    ['inputs with a non-string', '/embed', { inputs: ['a', null] }, 422, /`inputs\[1\]` must be a string, got null/, 'validation'],
    ['normalize not a boolean', '/embed', { inputs: 'a', normalize: 'yes' }, 422, /`normalize` must be a boolean, got string/, 'validation'],
    ['empty inputs', '/embed', { inputs: [] }, 400, /`inputs` cannot be empty/, 'empty'],
    ['257 texts', '/embed', { inputs: Array.from({ length: 257 }, () => 'a') }, 413, /batch size 257 > maximum allowed batch size 256/, 'validation'],
    ['too long, truncate false', '/embed', { inputs: 'w '.repeat(20) }, 413, /`inputs` must have less than 16 tokens. Given: 22/, 'validation'],
    ['predict: batch element of 3', '/predict', { inputs: [['a', 'b', 'c']] }, 422, /`inputs\[0\]` must be \[string\] or \[string, string\]/, 'validation'],
    ['predict: raw_scores not a boolean', '/predict', { inputs: 'a', raw_scores: 1 }, 422, /`raw_scores` must be a boolean, got number/, 'validation'],
    ['tokenize: add_special_tokens', '/tokenize', { inputs: 'a', add_special_tokens: 1 }, 422, /`add_special_tokens` must be a boolean/, 'validation'],
  ];
  for (const [name, route, body, status, message, type] of cases) {
    test(name, async () => {
      const res = await post(`${url}${route}`, body);
      assert.equal(res.status, status);
      assert.match(res.json.error, message);
      assert.equal(res.json.error_type, type);
    });
  }

  test('OpenAI route errors in its shape', async () => {
    const res = await post(`${url}/v1/embeddings`, { input: [1, 2] });
    assert.equal(res.status, 422);
    assert.deepEqual(res.json, { message: '`input` must be a string or a list of strings; token-id arrays are not supported', code: 422, type: 'validation' });
    const fmt = await post(`${url}/v1/embeddings`, { input: 'a', encoding_format: 'int8' });
    assert.equal(fmt.status, 422);
    assert.match(fmt.json.message, /encoding_format/);
  });

  test('body over 1 MiB: 413', async () => {
    const res = await post(`${url}/embed`, { inputs: 'x'.repeat(1024 * 1024) });
    assert.equal(res.status, 413);
    assert.deepEqual(res.json, { error: 'request body is larger than the limit of 1048576 bytes', error_type: 'validation' });
  });

  test('wrong content type: 415; empty body: 400; unknown route: 404', async () => {
    const text = await fetch(`${url}/embed`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.status, 415);
    assert.equal(((await text.json()) as { error_type: string }).error_type, 'validation');
    const empty = await fetch(`${url}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.status, 400);
    const missing = await fetch(`${url}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'no route GET /nope', error_type: 'not_found' });
  });

  test('truncate true lets an over-long input through, cut to the limit', async () => {
    const res = await post(`${url}/embed`, { inputs: 'w '.repeat(20), truncate: true, normalize: false });
    assert.equal(res.status, 200);
    assert.equal(res.json[0][0], 16);
  });

  test('a model failure is a 424 for that request only, and the server lives on', async () => {
    const [bad, good] = await Promise.all([post(`${url}/predict`, { inputs: 'please fail' }), post(`${url}/predict`, { inputs: 'good' })]);
    assert.equal(bad.status, 424);
    assert.deepEqual(bad.json, { error: 'the fake model fails on "fail"', error_type: 'backend' });
    assert.equal(good.status, 200);
    model.failWith = 'out of memory';
    const oom = await post(`${url}/embed`, { inputs: 'a' });
    assert.deepEqual(oom, { status: 424, json: { error: 'inference failed: out of memory', error_type: 'backend' } });
    model.failWith = undefined;
    assert.equal((await fetch(`${url}/health`)).status, 200);
  });
});

describe('dynamic batching', () => {
  test('concurrent requests share model calls; /metrics shows the batch sizes', async () => {
    const { url, model } = await start('feature-extraction', { maxBatchSize: 8, maxWaitMs: 20 }, 30);
    const n = 24;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => post(`${url}/embed`, { inputs: `text x${'x'.repeat(i)}`, normalize: false })));
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, [[4, 6 + i, 1, 0]]);
    });
    const sizes = model.calls.map((c) => c.inputs.length);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      n,
    );
    assert.ok(Math.max(...sizes) <= 8, `batch sizes ${sizes}`);
    assert.ok(sizes.length <= n / 2, `expected merged calls, got sizes ${sizes}`);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.equal(metric(text, 'bert_batch_size_count{op="embed"}'), sizes.length);
    assert.equal(metric(text, 'bert_batch_size_sum{op="embed"}'), n);
    assert.equal(metric(text, 'bert_batch_size_bucket{op="embed",le="1"}'), sizes.filter((s) => s === 1).length);
  });

  test('/metrics shows the queue and the requests in flight while the model is busy', async () => {
    const { url, model } = await start('feature-extraction', { maxBatchSize: 2, maxWaitMs: 0 }, 150);
    const pending = Array.from({ length: 6 }, (_, i) => post(`${url}/embed`, { inputs: `t${i}` }));
    while (model.calls.length === 0) await new Promise((r) => setTimeout(r, 2));
    // All six are in once the scrape sees 7 requests in flight (6 embeds + the scrape itself).
    let text = '';
    for (let tries = 0; tries < 50; tries++) {
      text = await (await fetch(`${url}/metrics`)).text();
      if (metric(text, 'bert_requests_in_flight') === 7) break;
    }
    assert.equal(metric(text, 'bert_requests_in_flight'), 7);
    // The first call (still running: 150 ms) holds 1 or 2 inputs; the rest wait.
    assert.equal(model.calls.length, 1);
    assert.equal(metric(text, 'bert_queue_size'), 6 - model.calls[0]!.inputs.length);
    for (const r of await Promise.all(pending)) assert.equal(r.status, 200);
    const sizes = model.calls.map((c) => c.inputs.length);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      6,
    );
    assert.ok(Math.max(...sizes) <= 2);
  });

  test('inputs of very different lengths go to different calls', async () => {
    const calls: string[][] = [];
    const batcher = new Batcher({ maxBatchSize: 8, maxWaitMs: 5 });
    const op = {
      key: 'echo',
      name: 'echo',
      run: async (xs: string[]) => {
        calls.push(xs);
        return xs;
      },
    };
    // Lengths 5 and 12 share the 16-token bucket; 100 and 120 share the 128 one.
    const [a, b] = await Promise.all([batcher.submit(op, ['s1', 'L1'], [5, 100]), batcher.submit(op, ['s2', 'L2'], [12, 120])]);
    assert.deepEqual([a, b], [
      ['s1', 'L1'],
      ['s2', 'L2'],
    ]);
    assert.deepEqual(calls, [
      ['s1', 's2'],
      ['L1', 'L2'],
    ]);
    assert.deepEqual([1, 16, 17, 100, 128, 129, 512].map(lengthBucket), [16, 16, 32, 128, 128, 256, 512]);
  });

  test('a 256-text request does not starve one that arrives after it', async () => {
    const { url, model } = await start('feature-extraction', { maxBatchSize: 8, maxWaitMs: 1 }, 5);
    const big = post(`${url}/embed`, { inputs: Array.from({ length: 256 }, (_, i) => `big ${i}`) });
    // Wait until the big request is being served, then send a small one.
    while (model.calls.length === 0) await new Promise((r) => setTimeout(r, 1));
    const small = await post(`${url}/embed`, { inputs: 'small' });
    assert.equal(small.status, 200);
    const callsBeforeSmallDone = model.calls.findIndex((c) => c.inputs.includes('small'));
    assert.ok(callsBeforeSmallDone >= 0 && callsBeforeSmallDone <= 3, `small served in call ${callsBeforeSmallDone} of ${model.calls.length}`);
    assert.equal((await big).status, 200);
    assert.equal(model.calls.length, 33);
  });
});

describe('graceful shutdown', () => {
  test('close() finishes the request in flight, then refuses new connections', async () => {
    const model = new FakeModel('feature-extraction', 16, 300);
    const server = createServer(model, { maxWaitMs: 0 });
    const url = await server.listen({ port: 0 });
    const inflight = post(`${url}/embed`, { inputs: 'slow one', normalize: false });
    while (model.calls.length === 0) await new Promise((r) => setTimeout(r, 2));
    const t0 = performance.now();
    await server.close();
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, [[4, 8, 1, 0]]);
    assert.ok(performance.now() - t0 > 200, 'close() returned before the in-flight request was answered');
    await assert.rejects(fetch(`${url}/health`));
  });
});
