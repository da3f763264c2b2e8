// A static server for the built page, on 127.0.0.1 only. Every response carries the cross-origin
// isolation headers (COOP/COEP) that SharedArrayBuffer, and so ORT's WASM threads, need. With
// `modelDir`, that folder's model files are served read-only under /served-model/ (index.json lists them).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};
const MODEL_FILES = /^(config\.json|model\.safetensors|vocab\.txt|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$/;

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

export async function serveWeb(root: string, opts: { port?: number; modelDir?: string } = {}): Promise<WebServer> {
  const server: Server = createServer((req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-cache' };
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    let file: string | undefined;
    let body: string | Buffer | undefined;
    if (path.startsWith('/served-model/') && opts.modelDir !== undefined) {
      const name = path.slice('/served-model/'.length);
      const names = readdirSync(opts.modelDir).filter((f) => MODEL_FILES.test(f));
      if (name === 'index.json') body = JSON.stringify(names);
      else if (names.includes(name)) file = join(opts.modelDir, name);
    } else {
      const p = normalize(join(root, path === '/' ? 'index.html' : path));
      if (p.startsWith(root + sep) && existsSync(p) && statSync(p).isFile()) file = p;
    }
    if (file === undefined && body === undefined) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[extname(file ?? 'x.json')] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type });
    res.end(req.method === 'HEAD' ? undefined : (body ?? readFileSync(file!)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
