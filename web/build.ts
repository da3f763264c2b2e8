// Builds the browser page into web/dist: page.js and worker.js bundled by esbuild (ES modules, minified),
// onnxruntime-web's WASM files beside them under ort/, and the static files. The library's runtime
// backend src/runtime/ort-node.ts becomes ort-web.ts by package.json's "browser" field, which esbuild
// follows for platform 'browser'; a Node module reaching the bundle (node:fs, ...) fails the build.
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(here, 'dist');

export interface BuildReport {
  dir: string;
  /** Bytes of each output file (the bundles and ORT's wasm). */
  sizes: Record<string, number>;
}

export async function buildWeb(out = WEB_DIST): Promise<BuildReport> {
  rmSync(out, { recursive: true, force: true });
  await bundleForBrowser({ page: join(here, 'app/page.ts'), worker: join(here, 'app/worker.ts') }, out);
  for (const f of ['index.html', 'page.css']) copyFileSync(join(here, 'app', f), join(out, f));
  const sizes: Record<string, number> = {};
  for (const f of ['page.js', 'worker.js', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm']) sizes[f] = statSync(join(out, f)).size;
  return { dir: out, sizes };
}

/** Bundles `entries` (name -> .ts file) into `out` as browser ES modules, with ORT's WASM files in out/ort/. */
export async function bundleForBrowser(entries: Record<string, string>, out: string): Promise<void> {
  mkdirSync(join(out, 'ort'), { recursive: true });
  await build({
    entryPoints: entries,
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    // onnxruntime-web without its WASM glue inlined: it loads ort/*.mjs and ort/*.wasm from the page's server.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    logLevel: 'warning',
  });
  const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
  for (const f of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(ortDist, f), join(out, 'ort', f));
}
