// docs/experiment-report.png: the top of a `bert experiment` report, taken in headless chromium
// (test/helpers/chromium.ts) the way the report test opens it.
// Usage: node --import tsx scripts/report-screenshot.ts [runs/experiment/report.html] [out.png]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumMissing, launchChromium } from '../test/helpers/chromium.ts';

const report = resolve(process.argv[2] ?? 'runs/experiment/report.html');
const out = process.argv[3] ?? 'docs/experiment-report.png';
const missing = chromiumMissing();
if (missing) throw new Error(missing);
const browser = await launchChromium({ width: 1200, height: 2300 });
try {
  await browser.page.goto(pathToFileURL(report).href);
  await browser.page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
