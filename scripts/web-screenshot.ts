// docs/web-page.png: the page mid-training, taken in headless chromium (test/helpers/chromium.ts) on
// the tiny fixture model and the synthetic separable task of the tests, so it runs in seconds.
// Usage: node --import tsx scripts/web-screenshot.ts [out.png]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumMissing, launchChromium } from '../test/helpers/chromium.ts';
import { classificationFiles, tempDir } from '../test/helpers/finetune-data.ts';
import { tinyModelFolder } from '../test/helpers/tiny-model.ts';
import { buildWeb } from '../web/build.ts';
import { serveWeb } from '../web/serve.ts';

const out = process.argv[2] ?? 'docs/web-page.png';
const missing = chromiumMissing();
if (missing) throw new Error(missing);
const server = await serveWeb((await buildWeb(join(tempDir(), 'web'))).dir);
const browser = await launchChromium({ width: 1100, height: 1250 });
const { page } = browser;
try {
  await page.goto(server.url);
  const model = tinyModelFolder();
  await page.setInputFiles('#model-files', readdirSync(model).map((f) => join(model, f)));
  await page.waitForFunction(`document.getElementById('model-status').textContent.startsWith('opened')`);
  const files = classificationFiles(tempDir(), 240, 1);
  await page.fill('#train-text', readFileSync(files.train, 'utf8'));
  await page.fill('#dev-text', readFileSync(files.dev, 'utf8'));
  await page.fill('#epochs', '12');
  await page.fill('#lr', '0.002');
  await page.fill('#max-seq-length', '64');
  await page.fill('#fill-text', 'w7 w9 [MASK] w12 .');
  await page.click('#fill');
  await page.waitForFunction(`document.getElementById('fill-out').children.length > 0`);
  await page.click('#train');
  // Mid-training: a third of the steps done, a few epochs scored.
  await page.waitForFunction(`document.querySelectorAll('#evals li').length >= 4`, null, { timeout: 300_000 });
  await page.screenshot({ path: out, fullPage: true });
  await page.click('#stop');
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
