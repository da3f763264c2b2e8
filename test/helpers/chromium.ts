// Headless Chromium for page tests and scripts: Debian's /usr/bin/chromium (nothing downloaded),
// driven through playwright-core. `.ci/run` installs the package; outside CI a missing browser skips.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The closed network refuses connections, so everything that phones home is off.
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/**
 * Why a browser test cannot run here, or undefined when it can. Under env CI a missing browser is an
 * error (the test must not pass by skipping); elsewhere the test skips with this message.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const why = `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`;
  if (process.env.CI) throw new Error(`CI is set and ${why}`);
  return why;
}

export interface Chromium {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors seen so far (for failure messages). */
  log: string[];
  close(): Promise<void>;
}

/** A fresh headless browser (a new profile each time) with one page; downloads are accepted. */
export async function launchChromium(opts: { width?: number; height?: number } = {}): Promise<Chromium> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: opts.width ?? 1100, height: opts.height ?? 900 } });
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return { browser, context, page, log, close: () => browser.close() };
}
