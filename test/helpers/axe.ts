import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';

/**
 * Accessibility checks of the console's pages in the browser: axe-core (from npm,
 * injected into the page) with the WCAG 2.0/2.1 A and AA rules and axe's best practices.
 */

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** The axe rule sets run: WCAG 2.0 and 2.1, levels A and AA, and best practice. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * Runs axe on the page as it is now and fails on any serious or critical violation,
 * naming `state` (what the page shows), each rule, its help and the elements at fault.
 */
export async function assertAccessible(page: Page, state: string): Promise<void> {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol: the console's Content-Security-Policy forbids
  // inline scripts (page.addScriptTag), and the test must not switch it off.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = await page.evaluate(
    (tags) =>
      (window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<unknown> } }).axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    AXE_TAGS,
  );
  const bad = (results as AxeResults).violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  const lines = bad.map(
    (v) =>
      `  ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    at ${JSON.stringify(n.target)}`).join('\n')}`,
  );
  assert.equal(
    bad.length,
    0,
    `${state}: ${bad.length} serious or critical axe violation(s)\n${lines.join('\n')}`,
  );
}

/** Fails when the page scrolls sideways (wider than the window). */
export async function assertNoSideways(page: Page, state: string): Promise<void> {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(scroll <= inner, `${state}: no sideways scrolling (page ${scroll}px wide, window ${inner}px)`);
}
