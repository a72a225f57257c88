import type { TaskView } from '../../src/app/operations.js';
import { embeddedRuntimeConfig, createRuntime, type Runtime } from '../../src/app/runtime.js';
import type { DatabaseConfig } from '../../src/config/database.js';
import type { Logger } from '../../src/core/ports.js';
import { createApp } from '../../src/server/http/app.js';
import { serve, type RunningServer } from '../../src/server/serve.js';
import { webUiOptions } from '../../src/server/web-ui.js';
import { createEmbeddedGitLab, SIMULATOR_PATH, type EmbeddedGitLab } from '../../src/testing/embedded-gitlab.js';
import { freePort } from './server-process.js';
import { workflowFolder, type WorkflowFolder } from './workflow-files.js';

/** A workflow whose input schema is a flat object of every kind of field a start form has, returning its input. */
export const RELEASE_WORKFLOW = `import { workflow } from 'autoflow';
export default workflow({
  name: 'ui-release',
  input: {
    type: 'object',
    required: ['environment', 'tag'],
    properties: {
      environment: { type: 'string', enum: ['staging', 'production'], default: 'staging', description: 'where it goes' },
      tag: { type: 'string', title: 'Release tag', pattern: '^v[0-9]+' },
      replicas: { type: 'integer', minimum: 1, maximum: 9, default: 2 },
      dryRun: { type: 'boolean', default: true },
      regions: { type: 'array', items: { type: 'string', enum: ['eu', 'us'] } },
    },
    additionalProperties: false,
  },
  async run(input: unknown) {
    return input;
  },
});`;

/** Workflows the UI tests drive: a form with every field type, an approval, and a run that waits for a signal. */
export const UI_WORKFLOWS: Record<string, string> = {
  'ui-form.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-form',
  async run(input: { assignees?: string[] }) {
    const outcome = await tasks.form({
      title: 'Incident review',
      description: '# Review\\nTell us what **happened**. <script>window.__pwned = "description"</script>\\n\\n- be brief\\n- be kind',
      assignees: input?.assignees ?? ['alice'],
      fields: [
        { name: 'summary', label: 'Summary', type: 'text', maxLength: 40, placeholder: 'one line' },
        { name: 'impact', label: 'Users affected', type: 'number', integer: true, min: 0, max: 1000, default: 1 },
        { name: 'severity', label: 'Severity', type: 'choice', options: ['low', { value: 'high', label: 'High!' }] },
        { name: 'areas', label: 'Areas', type: 'multichoice', options: ['api', 'ui', 'db'], required: false },
        { name: 'paged', label: 'Was someone paged?', type: 'boolean' },
        { name: 'since', label: 'Since', type: 'date', required: false },
        { name: 'notes', label: 'Notes', type: 'textarea', required: false, help: 'Anything else' },
      ],
    });
    return outcome;
  },
});`,
  'ui-approval.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-approval',
  async run() {
    const outcome = await tasks.approval({ title: 'Deploy during the freeze', description: 'Risk: *low*', approvers: ['alice', 'bob'], required: 1 });
    return { status: outcome.status, decisions: outcome.decisions.map((d) => d.by + ':' + d.decision) };
  },
});`,
  'ui-steps.ts': `import { log, signal, workflow } from 'autoflow';
export default workflow({
  name: 'ui-steps',
  async run() {
    log.info('waiting for go');
    const data = await signal('go', { timeout: '1h' });
    log.info('got go');
    return { went: data };
  },
});`,
};

export interface UiServer {
  url: string;
  runtime: Runtime;
  gitlab: EmbeddedGitLab;
  server: RunningServer;
  folder: WorkflowFolder;
  /** Polls `read` until `accept` holds, or fails after `timeoutMs`. */
  until<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** A new session, signed in as `username` through the simulator's OAuth flow. */
  signedIn(username: string): Promise<HttpSession>;
  /** The first form or approval of run `runId`, once the run has opened it. */
  firstTaskOf(runId: string): Promise<TaskView>;
  close(): Promise<void>;
}

/**
 * A real server on loopback, wired like `autoflow server` with no GitLab: the embedded simulator
 * (seeded users alice, bob, carol), its OAuth application, the API and the web UI on one port.
 */
export async function startUiServer(
  workflows: Record<string, string> = UI_WORKFLOWS,
  options: { db?: DatabaseConfig; sessionSecret?: string; uiUsers?: string[]; logger?: Logger } = {},
): Promise<UiServer> {
  const folder = workflowFolder(workflows);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const gitlab = createEmbeddedGitLab();
  const db = options.db ?? { kind: 'memory' };
  const runtime = await createRuntime(embeddedRuntimeConfig({ db, workflowsDir: folder.dir, publicUrl: url }), {
    capabilities: [gitlab.capability],
    webhookSources: [gitlab.webhookSource],
    ...(options.logger && { logger: options.logger }),
  });
  await runtime.start();
  const ui = webUiOptions({
    config: { db, publicUrl: url, sessionSecret: options.sessionSecret, uiUsers: options.uiUsers },
    operations: runtime.operations,
    logger: runtime.logger,
    gitlab,
  });
  const server = await serve(createApp({ operations: runtime.operations, logger: runtime.logger, gitlab, ui }), {
    port,
    host: '127.0.0.1',
    shutdownGraceMs: 200,
  });
  gitlab.attach(server.url, url);
  const started: UiServer = {
    url,
    runtime,
    gitlab,
    server,
    folder,
    async until(read, accept, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await read();
        if (accept(value)) return value;
        if (Date.now() > deadline)
          throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async signedIn(username) {
      const session = new HttpSession(url);
      await session.signIn(username);
      return session;
    },
    async firstTaskOf(runId) {
      const { tasks } = await started.until(
        () => runtime.operations.listTasks({ runId }),
        (page) => page.tasks.length > 0,
      );
      return tasks[0]!;
    },
    async close() {
      gitlab.simulator.webhooks.stop();
      await server.close();
      await runtime.stop();
      folder.remove();
    },
  };
  return started;
}

/** A tiny cookie-carrying HTTP client, for tests at the HTTP level. */
export class HttpSession {
  readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(new URL(path, this.baseUrl), { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (!pair || index < 0) continue;
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Signs in through the simulator's OAuth flow as `username`, the way a browser would. */
  async signIn(username: string): Promise<void> {
    const done = await this.attemptSignIn(username);
    if (done.status !== 302 || !this.cookies.has('af_session'))
      throw new Error(`sign-in as ${username} failed: ${done.status} ${await done.text()}`);
  }

  /** The simulator's OAuth flow as `username`: the answer of the server's `/auth/callback`, whatever it is. */
  async attemptSignIn(username: string): Promise<Response> {
    const start = await this.request('/auth/login?go=1&next=/tasks');
    const authorize = new URL(start.headers.get('location') ?? '');
    if (!authorize.pathname.startsWith(`${SIMULATOR_PATH}/oauth/authorize`))
      throw new Error(`unexpected sign-in redirect ${authorize.href}`);
    const form = new URLSearchParams(authorize.searchParams);
    form.set('username', username);
    const granted = await this.request(authorize.pathname, { method: 'POST', body: form });
    const callback = new URL(granted.headers.get('location') ?? '');
    return this.request(callback.pathname + callback.search);
  }

  /** The CSRF token of a page's forms. */
  async csrfOf(path: string): Promise<string> {
    const html = await (await this.request(path)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error(`no form token on ${path}`);
    return token;
  }

  post(
    path: string,
    fields: Record<string, string | string[]>,
    headers: Record<string, string> = { origin: this.baseUrl },
  ): Promise<Response> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
    return this.request(path, { method: 'POST', body, headers });
  }
}
