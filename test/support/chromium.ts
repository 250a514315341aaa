import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's chromium, headless. Never `playwright install`: the browser comes from the OS. Only 127.0.0.1
 * (and the names in `resolve`, e.g. localhost) resolve.
 */
export function launchChromium({ resolve = [], env, args = [] }: { resolve?: string[]; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    ...(env ? { env: env as Record<string, string> } : {}),
    args: [
      ...args,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Belt and braces for "loopback only": any host name the browser itself might look up fails.
      `--host-resolver-rules=MAP * ~NOTFOUND, ${[...resolve, '127.0.0.1'].map((h) => `EXCLUDE ${h}`).join(', ')}`,
    ],
  });
}

export interface PageLog {
  /** Top-level navigations as "METHOD url", in order. */
  navigations: string[];
  /** Every request URL that was not to 127.0.0.1. */
  offLoopback: string[];
  /** Console messages reporting a Content Security Policy violation. */
  cspViolations: string[];
}

/** Records what a page does, so tests can assert on the whole journey rather than only where it ended. */
export function watch(page: Page): PageLog {
  const log: PageLog = { navigations: [], offLoopback: [], cspViolations: [] };
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) log.navigations.push(`${req.method()} ${req.url()}`);
    const url = new URL(req.url());
    if (url.protocol !== 'about:' && url.protocol !== 'data:' && url.hostname !== '127.0.0.1') log.offLoopback.push(req.url());
  });
  page.on('console', (msg) => {
    if (/content security policy/i.test(msg.text())) log.cspViolations.push(msg.text());
  });
  return log;
}
