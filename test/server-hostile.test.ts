// bert serve under hostile clients, each a raw socket on 127.0.0.1: connections that never finish
// their headers or their body, oversized headers, bodies declared over the limit, a client that
// stops reading, more connections than allowed. Each test bounds its own waits and stops by itself;
// the server keeps answering others throughout and its memory stays flat.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { createServer, type BertServer } from '../src/server/app.ts';
import type { HttpLimits } from '../src/server/limits.ts';
import { FakeModel } from './helpers/server-fake-model.ts';

const open: BertServer[] = [];
after(async () => {
  for (const s of open) await s.close();
});

async function start(limits: Partial<HttpLimits>, bodyLimit?: number): Promise<{ server: BertServer; port: number }> {
  const server = createServer(new FakeModel('feature-extraction', 16), { httpLimits: limits, bodyLimit });
  open.push(server);
  const url = await server.listen({ port: 0 });
  return { server, port: Number(new URL(url).port) };
}

/** A raw client: what it received, and a promise that settles when the server closes it. */
interface Client {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

function client(port: number, first: string | Buffer = ''): Promise<Client> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect({ host: '127.0.0.1', port }, () => {
      if (first.length > 0) socket.write(first);
      resolve({ socket, received: () => data, closed });
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => {}); // a reset from the server is one of the expected endings
    socket.once('error', reject);
  });
}

/** Resolves with `p`, or rejects after `ms` naming `what`: every wait in this file is bounded. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** GET /health on a fresh connection that closes after it (so the connection count can reach 0). */
async function healthy(port: number): Promise<void> {
  const c = await client(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await within(5000, 'GET /health', c.closed);
  assert.match(c.received(), /^HTTP\/1\.1 200 /);
}

async function connections(server: BertServer): Promise<number> {
  return new Promise((resolve, reject) => server.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

const MiB = 1024 * 1024;

test('200 connections that never finish their headers get 408 and are closed after the headers timeout; others are served meanwhile; memory stays flat', async () => {
  const { server, port } = await start({ headersTimeoutMs: 500 });
  const rssBefore = process.memoryUsage().rss;
  const slow: Client[] = [];
  for (let i = 0; i < 200; i++) slow.push(await client(port, 'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/'));
  await healthy(port);
  await within(10_000, 'slow clients closed', Promise.all(slow.map((c) => c.closed)));
  for (const c of slow) assert.match(c.received(), /^HTTP\/1\.1 408 /);
  assert.equal(await connections(server), 0);
  await healthy(port);
  assert.ok(process.memoryUsage().rss - rssBefore < 64 * MiB, `RSS grew by ${(process.memoryUsage().rss - rssBefore) / MiB} MiB`);
});

test('a body sent a byte at a time is cut off by the request timeout', async () => {
  const { port } = await start({ requestTimeoutMs: 800, headersTimeoutMs: 500 });
  const c = await client(port, 'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
  let sent = 0;
  const drip = setInterval(() => {
    if (!c.socket.destroyed && sent++ < 100) c.socket.write(' ');
  }, 100);
  try {
    await within(10_000, 'dripping client closed', c.closed);
  } finally {
    clearInterval(drip);
  }
  assert.match(c.received(), /^HTTP\/1\.1 408 /);
  assert.ok(sent < 60, `the server read ${sent} drips before cutting off`);
  await healthy(port);
});

test('request headers over the limit get 431', async () => {
  const { port } = await start({ maxHeaderBytes: 8 * 1024 });
  const c = await client(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(16 * 1024)}\r\n\r\n`);
  await within(5000, 'oversized headers closed', c.closed);
  assert.match(c.received(), /^HTTP\/1\.1 431 /);
  const ok = await client(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(4 * 1024)}\r\nConnection: close\r\n\r\n`);
  await within(5000, 'normal headers answered', ok.closed);
  assert.match(ok.received(), /^HTTP\/1\.1 200 /);
  await healthy(port);
});

test('a body declared larger than the limit gets 413 before any of it is sent', async () => {
  const { port } = await start({}, 64 * 1024);
  const c = await client(port, 'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n');
  // Nothing of the body is written: the answer must come from the declared length alone.
  const answered = await within(5000, '413 for a declared length', new Promise<string>((resolve) => {
    const poll = setInterval(() => {
      if (/\r\n\r\n/.test(c.received())) {
        clearInterval(poll);
        resolve(c.received());
      }
    }, 20);
  }));
  assert.match(answered, /^HTTP\/1\.1 413 /);
  assert.match(answered, /larger than the limit of 65536 bytes/);
  c.socket.destroy();
});

test('a client that pipelines requests and stops reading is closed after the idle timeout; memory stays flat', async () => {
  const { server, port } = await start({ idleTimeoutMs: 1000, maxRequestsPerSocket: 0 });
  const rssBefore = process.memoryUsage().rss;
  // 5000 pipelined GET /metrics (each answer 1-3 KB): more than the socket buffers hold. No limit
  // on requests per connection here, so that only the stalled writes stop the server.
  const request = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
  const c = await client(port);
  c.socket.pause();
  for (let i = 0; i < 50; i++) c.socket.write(request.repeat(100));
  await within(15_000, 'stalled client closed', (async () => {
    for (let i = 0; i < 150 && (await connections(server)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  })());
  assert.equal(await connections(server), 0);
  // The server stopped answering when its writes stalled, rather than queueing every answer.
  const answered = Number(/bert_request_count\{route="\/metrics",method="GET",status="200"\} (\d+)/.exec(server.metrics.render())?.[1] ?? 0);
  assert.ok(answered < 5000, `answered ${answered} of 5000 requests to a client that reads nothing`);
  c.socket.destroy();
  await healthy(port);
  assert.ok(process.memoryUsage().rss - rssBefore < 64 * MiB, `RSS grew by ${(process.memoryUsage().rss - rssBefore) / MiB} MiB`);
});

test('connections past maxConnections are refused at accept; the ones inside are served', async () => {
  const { server, port } = await start({ maxConnections: 8, headersTimeoutMs: 2000 });
  const held: Client[] = [];
  for (let i = 0; i < 8; i++) held.push(await client(port, 'GET /health HTTP/1.1\r\n'));
  const extra = await client(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  await within(5000, 'extra connection refused', extra.closed);
  assert.equal(extra.received(), '');
  for (const c of held) c.socket.destroy();
  await within(5000, 'held connections gone', (async () => {
    for (let i = 0; i < 50 && (await connections(server)) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  })());
  await healthy(port);
});
