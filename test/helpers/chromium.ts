// Debian's headless Chromium, driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// JSON messages ended by NUL on file descriptors 3 and 4, as Playwright does), so no WebSocket
// client and no downloaded browser are needed. Pages are checked in a fresh profile with networking
// features off; every console error, uncaught exception and error-level log entry is collected.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Chromium's path, or undefined when it is missing outside CI (the caller skips with the message);
 * under CI a missing browser fails the test (.ci/run installs Debian's `chromium`).
 */
export function chromiumOrSkip(): { path?: string; skip?: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  const message = `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to check pages in a browser`;
  if (process.env.CI) throw new Error(message);
  return { skip: message };
}

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-extensions', '--disable-default-apps', '--mute-audio', '--remote-debugging-pipe',
];

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface PageCheck<T> {
  /** Console errors, uncaught exceptions and error-level log entries (failed loads included). */
  errors: string[];
  /** URLs the page requested, other than the page itself and data: URLs. */
  requests: string[];
  /** The value of the expression evaluated after the load event. */
  value: T;
}

/** A browser process and the DevTools protocol over its pipe. */
class Browser {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(m: Message) => void> = [];

  private constructor(private readonly proc: ChildProcess, private readonly profile: string) {
    const out = proc.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end = this.buffer.indexOf('\0');
      while (end !== -1) {
        const m = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        end = this.buffer.indexOf('\0');
        if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.error) p?.reject(new Error(m.error.message));
          else p?.resolve(m);
        } else for (const l of this.listeners) l(m);
      }
    });
    proc.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  static launch(path: string): Browser {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    const proc = spawn(path, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new Browser(proc, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message: Message = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (m) => resolve(m.result ?? {}), reject });
      (this.proc.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  on(listener: (m: Message) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** Opens `url` in a fresh headless Chromium, waits for its load event, evaluates `expression`, closes. */
export async function checkPage<T>(path: string, url: string, expression: string, timeoutMs = 30_000): Promise<PageCheck<T>> {
  const browser = Browser.launch(path);
  const errors: string[] = [];
  const requests: string[] = [];
  let loaded: () => void = () => {};
  const load = new Promise<void>((resolve) => (loaded = resolve));
  const timeout = setTimeout(() => errors.push(`no load event in ${timeoutMs} ms`), timeoutMs);
  try {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await browser.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    browser.on((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params ?? {};
      if (m.method === 'Page.loadEventFired') loaded();
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) errors.push(`console.${String(p.type)}: ${JSON.stringify(p.args)}`);
      if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
      if (m.method === 'Log.entryAdded') {
        const entry = p.entry as { level: string; text: string; url?: string };
        if (entry.level === 'error') errors.push(`log: ${entry.text} ${entry.url ?? ''}`);
      }
      if (m.method === 'Network.requestWillBeSent') {
        const u = (p.request as { url: string }).url;
        if (u !== url && !u.startsWith('data:')) requests.push(u);
      }
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await browser.send(`${domain}.enable`, {}, sessionId);
    await browser.send('Page.navigate', { url }, sessionId);
    await Promise.race([load, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    const r = (await browser.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: unknown };
    if (r.exceptionDetails) errors.push(`evaluate: ${JSON.stringify(r.exceptionDetails)}`);
    return { errors, requests, value: r.result.value };
  } finally {
    clearTimeout(timeout);
    await browser.close();
  }
}
