import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startUiServer, UI_WORKFLOWS, type UiServer } from '../helpers/ui-server.js';

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

export interface BrowserSuiteOptions<User extends string> {
  /** One Chromium of its own per user (a simulator user: alice, bob, carol). */
  users: readonly User[];
  /** @default UI_WORKFLOWS */
  workflows?: Record<string, string>;
  /** Whether each user is signed in before the first test; false for a suite that tests signing in. @default true */
  signIn?: boolean;
}

export interface BrowserSuite<User extends string> {
  /** The suite's server; usable in tests and hooks, once the suite's set-up has run. */
  server: UiServer;
  /** Each user's browser; usable in tests and hooks, once the suite's set-up has run. */
  users: Record<User, UserBrowser>;
}

/**
 * The set-up every browser test file shares: a `describe` that is skipped (and says why) when
 * Chromium is missing outside CI, and that before its tests starts a UI server, opens a Chromium
 * per user and signs each in; after them it closes all of these.
 *
 * @example
 * describeInBrowser('the inbox', { users: ['alice'] }, ({ server, users: { alice } }) => {
 *   test('lists my tasks', async () => { await alice.page.goto(`${server.url}/tasks`); });
 * });
 */
export function describeInBrowser<User extends string>(
  name: string,
  options: BrowserSuiteOptions<User>,
  body: (suite: BrowserSuite<User>) => void,
): void {
  const unavailable = browserUnavailable();
  if (unavailable) console.log(`# browser tests skipped: ${unavailable}`);
  void describe(name, { skip: unavailable }, () => {
    let server: UiServer | undefined;
    const opened = new Map<User, UserBrowser>();
    before(async () => {
      server = await startUiServer(options.workflows ?? UI_WORKFLOWS);
      await Promise.all(options.users.map(async (user) => opened.set(user, await openBrowser())));
      const url = server.url;
      if (options.signIn ?? true) await Promise.all(options.users.map((user) => signIn(opened.get(user)!.page, url, user)));
    });
    after(async () => {
      await Promise.all([...opened.values()].map((browser) => browser.close()));
      await server?.close();
    });
    const ready = <T>(value: T | undefined, what: string): T => {
      if (value === undefined)
        throw new Error(`${what} is used before the suite's set-up ran: use it inside a test or hook, not in the describe body`);
      return value;
    };
    const users = Object.fromEntries(
      options.users.map((user) => [user, lateBrowser(() => ready(opened.get(user), `the browser of ${user}`))]),
    ) as Record<User, UserBrowser>;
    body({ server: lateServer(() => ready(server, 'the server')), users });
  });
}

/** A server handle for the describe body, which runs before the server starts: each member is read when used. */
function lateServer(get: () => UiServer): UiServer {
  return {
    get url() {
      return get().url;
    },
    get runtime() {
      return get().runtime;
    },
    get gitlab() {
      return get().gitlab;
    },
    get server() {
      return get().server;
    },
    get folder() {
      return get().folder;
    },
    until: (read, accept, timeoutMs) => get().until(read, accept, timeoutMs),
    signedIn: (username) => get().signedIn(username),
    firstTaskOf: (runId) => get().firstTaskOf(runId),
    close: () => get().close(),
  };
}

function lateBrowser(get: () => UserBrowser): UserBrowser {
  return {
    get context() {
      return get().context;
    },
    get page() {
      return get().page;
    },
    close: () => get().close(),
  };
}
