import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it, type TestContext } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { client, type Request, startServer, type TestServer } from './server.js';

/**
 * The console's browser tests: headless Chromium (playwright-core, a system Chromium)
 * against the real server serving the built console. On the SQLite pass only (the
 * console adds nothing database-specific).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONSOLE_DIST = path.join(ROOT, 'dist/console/index.html');
/** Where screenshots go: the README's docs/screenshots/, or elsewhere under CI so a run leaves the clone clean. */
export const SHOTS =
  process.env.TETHYS_SCREENSHOTS_DIR ||
  (process.env.CI
    ? path.join(os.tmpdir(), 'tethys-console-screenshots')
    : path.join(ROOT, 'docs/screenshots'));
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The desktop and phone viewports every console test checks. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const executablePath = CHROMIUM_PATHS.find((p) => fs.existsSync(p));
const onPostgres = Boolean(process.env.TETHYS_TEST_PG_URL);
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!executablePath && !onPostgres && inCi) {
  // CI must run these tests: a missing browser is an install problem, not a reason to skip.
  throw new Error(
    `console test: no Chromium at ${CHROMIUM_PATHS.join(', ')}; install Debian's "chromium" package`,
  );
}
/** The `skip` option of a browser test's describe block: false when it runs. */
export const browserSkip: string | false = onPostgres
  ? 'the console test runs on the SQLite pass only'
  : !executablePath
    ? `no Chromium found (${CHROMIUM_PATHS.join(', ')}): install it with "apt-get install -y chromium" to run the console test`
    : false;

/**
 * Builds the console when dist/console is missing or older than its sources, the SDK's
 * included (npm ci builds it already).
 */
export function ensureConsoleBuilt(): void {
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return t;
  };
  const sources = Math.max(
    newest(path.join(ROOT, 'console/src')),
    newest(path.join(ROOT, 'sdk/src')),
    fs.statSync(path.join(ROOT, 'console/index.html')).mtimeMs,
  );
  if (fs.existsSync(CONSOLE_DIST) && fs.statSync(CONSOLE_DIST).mtimeMs >= sources) return;
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('building the console (vite build) failed');
}

/** A running server with the console and a browser on it (see openConsole). */
export interface ConsoleSession {
  server: TestServer;
  request: Request;
  context: BrowserContext;
  page: Page;
  /** Script errors and console errors of the page (HTTP 4xx answers left out). */
  pageErrors: string[];
  /** A screenshot of the page into SHOTS as `<name>.png`. */
  shot(name: string, fullPage?: boolean): Promise<void>;
  /** Closes the browser and the server and removes the browser's profile. */
  close(): Promise<void>;
}

/**
 * Builds the console if needed, starts the server (with `env`) and a headless Chromium
 * at 1280x800 on a fresh profile; the page is blank (go to `server.url`).
 */
export async function openConsole(env: Record<string, string> = {}): Promise<ConsoleSession> {
  ensureConsoleBuilt();
  const server = await startServer(env);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: FLAGS,
      viewport: DESKTOP,
      acceptDownloads: true,
    });
  } catch (err) {
    await server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) pageErrors.push(m.text());
  });
  return {
    server,
    request: client(server.url),
    context,
    page,
    pageErrors,
    async shot(name, fullPage = true) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
    },
    async close() {
      await context.close();
      await server.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the console's login page (the account must exist) and waits for the overview. */
export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** Opens a section from the main menu and waits for its heading. */
export async function nav(page: Page, label: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

/**
 * `it` for steps that build on each other: after a failure the rest are skipped (not
 * timed out one by one), and a screenshot of the page at the failure is kept in the
 * temporary folder. `page` is looked up per step (it exists only once `before` ran).
 */
export function stepper(page: () => Page | undefined): (name: string, fn: () => Promise<void>) => void {
  let broken = '';
  return (name, fn) =>
    it(name, async (t: TestContext) => {
      if (broken) return t.skip(`an earlier step failed: ${broken}`);
      try {
        await fn();
      } catch (err) {
        broken = name;
        const file = path.join(os.tmpdir(), `tethys-console-failure-${Date.now()}.png`);
        await page()
          ?.screenshot({ path: file, fullPage: true })
          .then(
            () => t.diagnostic(`screenshot of the page at the failure: ${file}`),
            () => {},
          );
        throw err;
      }
    });
}
