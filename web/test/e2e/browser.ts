// Shared by the browser tests: Debian's Chromium (skipped with a notice when missing, except under
// CI=true), a fresh profile, screenshots in web/test-results/e2e/, temporary folders removed after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Whether the browser tests can run; throws under CI=true when Chromium is missing. */
export function chromiumAvailable(what: string): boolean {
  if (fs.existsSync(chromiumPath)) return true;
  if (process.env.CI === 'true') throw new Error(`CI needs Chromium for the browser tests, but ${chromiumPath} is missing (apt-get install chromium)`);
  console.warn(`\n  SKIPPING ${what}: ${chromiumPath} is missing (apt-get install chromium)\n`);
  return false;
}

export const shotsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'e2e');

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors in the page, to assert none happened. */
  pageErrors: string[];
  tempDir(prefix: string): string;
  /** A full-page screenshot of `on` (default: the first tab) as test-results/e2e/<name>.png. */
  shot(name: string, on?: Page): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  fs.mkdirSync(shotsDir, { recursive: true });
  const temporary: string[] = [];
  const tempDir = (prefix: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temporary.push(dir);
    return dir;
  };
  const context = await chromium.launchPersistentContext(tempDir('meshplane-e2e-chromium-'), {
    executablePath: chromiumPath,
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context, page, pageErrors, tempDir,
    shot: (name, on = page) => on.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true }),
    close: async () => {
      await context.close();
      for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How many pixels the page scrolls sideways (0 or less: it fits the viewport's width). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
