import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium (`/usr/bin/chromium`, installed by `.ci/run` when missing; never a downloaded
 * browser), driven by playwright-core, with a HOME of its own so it leaves nothing in the user's.
 * CHROMIUM_PATH points elsewhere.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  stop(): Promise<void>;
}

export async function startBrowser(): Promise<TestBrowser> {
  const home = mkdtempSync(join(tmpdir(), 'wa-browser-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    env: { ...process.env, HOME: home },
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  return {
    browser,
    async stop() {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A/AA rules). */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated by the driver, not as a <script>: the pages' CSP rightly allows no inline script.
  await page.evaluate(readFileSync(axeSource, 'utf8'));
  // A string, evaluated in the page: this file is compiled without the DOM's types.
  const violations = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  })()`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Where a test's screenshot goes: docs/screenshots (kept in the repository, linked from the README)
 * when UPDATE_SCREENSHOTS=1, else a temporary folder, so a test run leaves the tree as it was.
 */
const SCREENSHOT_DIR =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? new URL('../../docs/screenshots/', import.meta.url).pathname
    : mkdtempSync(join(tmpdir(), 'wa-screenshots-'));

export const screenshotPath = (name: string): string => join(SCREENSHOT_DIR, name);
