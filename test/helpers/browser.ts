/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Headless Chromium for the portal's end-to-end tests: Debian's `chromium` driven by playwright-core
 * (no browser download). GRANTFLOW_CHROMIUM overrides the binary. Screenshots go to test-results/screenshots
 * (git-ignored).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'test-results', 'screenshots');

/** The Chromium binary: GRANTFLOW_CHROMIUM, else the first of Debian's names that exists. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.GRANTFLOW_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p as string));
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error('Chromium is missing: apt-get install chromium (npm test installs it when run as root)');
  return chromium.launch({
    executablePath,
    headless: true,
    // As root in CI there is no user namespace sandbox; nothing on these machines has a GPU or the internet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--metrics-recording-only',
    ],
    timeout: 60_000,
  });
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The checks every portal page must pass: each form control has a label, each button and link a name, there is
 * an h1, and nothing scrolls sideways (narrow screens).
 */
export async function checkAccessible(page: Page, what: string): Promise<void> {
  const problems = await page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      const c = el as HTMLInputElement;
      if (c.labels?.length === 0 && !c.getAttribute('aria-label'))
        out.push(`unlabelled ${c.tagName} #${c.id}`);
    }
    for (const b of document.querySelectorAll('button, a')) {
      const name = (b.textContent ?? '').trim() || b.getAttribute('aria-label');
      if (!name) out.push(`nameless ${b.tagName}`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth + 1)
      out.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    if (!document.querySelector('h1')) out.push('no h1');
    return out;
  });
  assert.deepEqual(problems, [], `${what}: ${problems.join('; ')}`);
}
