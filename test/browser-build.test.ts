// The browser build of the library (src/browser.ts) bundles for a browser with no Node API on its
// path: no module of ours imports node:* or onnxruntime-node, and the runtime backend is ort-web.ts
// (package.json's "browser" field). What the bundle contains is read from esbuild's metafile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

test('src/browser.ts bundles for the browser on onnxruntime-web, with no module of ours importing Node', async () => {
  const r = await build({
    entryPoints: ['src/browser.ts'], bundle: true, write: false, format: 'esm', platform: 'browser', metafile: true,
    conditions: ['onnxruntime-web-use-extern-wasm'], outdir: 'unused', logLevel: 'silent',
  });
  const inputs = Object.entries(r.metafile.inputs);
  const ours = inputs.filter(([path]) => path.startsWith('src/'));
  assert.ok(ours.some(([p]) => p === 'src/runtime/ort-web.ts') && ours.some(([p]) => p === 'src/train/step.ts'), 'the bundle holds the web backend and the training step');
  assert.deepEqual(ours.filter(([p]) => p === 'src/runtime/ort-node.ts'), [], 'the Node backend is not in the browser bundle');
  const nodeImports = ours.flatMap(([p, i]) => i.imports.filter((x) => x.path.startsWith('node:') || x.path === 'onnxruntime-node').map((x) => `${p} imports ${x.path}`));
  assert.deepEqual(nodeImports, []);
  const packages = new Set(inputs.map(([p]) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(p)?.[1]).filter((p) => p !== undefined));
  assert.deepEqual([...packages], ['onnxruntime-web'], 'the only package in the bundle is ORT web (its min.mjs carries onnxruntime-common)');
});
