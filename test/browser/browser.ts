import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). Never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../artifacts/screenshots/', import.meta.url));

/**
 * Why the browser tests cannot run here, or undefined when they can. Outside CI a missing
 * chromium skips them with this message; with CI=true it is a failure (see `requireChromium`).
 */
export function browserUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const message = `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
  if (env.CI === 'true') throw new Error(`CI=true requires the browser tests to run, but ${message}`);
  return message;
}

export interface UserBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile of its own (one per signed-in user). */
export async function openBrowser(): Promise<UserBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'autoflow-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the simulator's OAuth user picker, starting from `path`, and lands back there. */
export async function signIn(page: Page, baseUrl: string, username: string, path = '/tasks'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('link', { name: 'Sign in with GitLab' }).click();
  await page.getByRole('button', { name: `@${username}` }).click();
  await page.waitForURL((url) => url.pathname === path);
}
