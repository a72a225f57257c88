import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig } from '../src/app/runtime.js';
import type { Logger } from '../src/core/ports.js';
import { createApp } from '../src/server/http/app.js';
import { serve } from '../src/server/serve.js';
import { webUiOptions } from '../src/server/web-ui.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { createEmbeddedGitLab } from '../src/testing/embedded-gitlab.js';
import { HttpSession } from '../test/helpers/ui-server.js';

/**
 * The web UI with 100,000 runs in a SQLite store: response times of the list pages a person
 * opens (first page, a page 50,000 runs deep, filtered by status and by workflow and status,
 * the overview's counts, a search by run id and by GitLab reference), through HTTP with sign-in,
 * rendering included.
 */
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 100_000);
const SAMPLES = Number(process.env.BENCH_UI_SAMPLES ?? 30);
const WORKFLOWS = Array.from({ length: 10 }, (_, i) => `workflow-${i}`);
const STATUSES = ['completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'completed', 'failed', 'failed', 'running'] as const;

/** Rows written straight into the runs table the store created (one transaction): filling through the engine would take minutes. */
function fill(path: string): void {
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status, result, error, history_length, trigger_event_seq)
     VALUES (?, ?, 'v1', '{"n":1}', ?, ?, ?, ?, ?, 4, ?)`,
  );
  // Each run started by a GitLab event about one of 5,000 issues (the reference search's haystack).
  const event = db.prepare(`INSERT INTO events (seq, dedupe_key, type, body, received_at, routed) VALUES (?, ?, 'com.gitlab.events.issue_updated', ?, ?, 1)`);
  const start = Date.now() - 30 * 86400_000;
  db.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const status = STATUSES[i % STATUSES.length] ?? 'completed';
      const at = start + i * 25_000;
      const subject = `demo/app#${i % 5000}`;
      event.run(i + 1, `e${i}`, JSON.stringify({ specversion: '1.0', id: `e${i}`, source: 'gitlab', type: 'com.gitlab.events.issue_updated', subject }), at);
      insert.run(
        `run-${String(i).padStart(6, '0')}`,
        WORKFLOWS[(i * 7) % WORKFLOWS.length] ?? 'workflow-0',
        at,
        at + 1000,
        status,
        status === 'completed' ? '{"ok":true}' : null,
        status === 'failed' ? '{"name":"Error","message":"boom"}' : null,
        i + 1,
      );
    }
  })();
  db.close();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function uiBench(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-ui-bench-'));
  const path = join(dir, 'ui.db');
  const logger = pino({ level: 'silent' }) as unknown as Logger;
  try {
    const store = createSqliteStore({ path });
    await store.migrate();
    await store.close();
    const filling = performance.now();
    fill(path);
    const filled = performance.now() - filling;

    const gitlab = createEmbeddedGitLab();
    const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'sqlite', path }, workflowsDir: dir, apiToken: 'bench' }), {
      logger,
      capabilities: [gitlab.capability],
      webhookSources: [gitlab.webhookSource],
    });
    await runtime.start();
    const ui = webUiOptions({ config: { db: { kind: 'sqlite', path } }, operations: runtime.operations, logger, gitlab });
    const server = await serve(createApp({ operations: runtime.operations, logger, gitlab, ui }), { port: 0, host: '127.0.0.1' });
    gitlab.attach(server.url);
    try {
      const session = new HttpSession(server.url);
      await session.signIn('alice');
      // A cursor 50,000 runs deep, found through the operations (the page itself is what is timed).
      let cursor: string | undefined;
      for (let page = 0; page < Math.floor(RUNS / 2 / 500); page++) cursor = (await runtime.operations.listRuns({ limit: 500, ...(cursor ? { cursor } : {}) })).nextCursor;
      const pages: Array<[string, string]> = [
        ['runs, first page', '/runs'],
        [`runs, page ${Math.floor(RUNS / 2).toLocaleString('en')} runs deep`, `/runs?cursor=${encodeURIComponent(cursor ?? '')}`],
        ['runs, status=failed', '/runs?status=failed'],
        ['runs, workflow + status=running', '/runs?workflow=workflow-3&status=running'],
        ['runs, search by id', `/runs?q=run-${String(Math.floor(RUNS / 3)).padStart(6, '0')}`],
        ['runs, search by GitLab reference', `/runs?q=${encodeURIComponent('demo/app#1234')}`],
        ['overview (counts by status)', '/'],
        ['events, first page with routing', '/events'],
      ];
      print(`web UI with ${RUNS.toLocaleString('en')} runs in SQLite (filled in ${(filled / 1000).toFixed(1)} s), ${SAMPLES} requests each:`);
      for (const [name, url] of pages) {
        const times: number[] = [];
        for (let i = 0; i < SAMPLES + 3; i++) {
          const started = performance.now();
          const response = await session.request(url);
          await response.arrayBuffer();
          if (response.status !== 200 && response.status !== 302) throw new Error(`${url} answered ${response.status}`);
          if (i >= 3) times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        print(`  ${name.padEnd(40)} p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`);
      }
    } finally {
      gitlab.simulator.webhooks.stop();
      await server.close();
      await runtime.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
