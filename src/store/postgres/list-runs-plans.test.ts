// The plans PostgreSQL makes for listRuns by when runs ended: a range of the partial index runs_by_end, newest first,
// with no sort; and for the children of a run: runs_by_parent. For the plan of the first executions and for the generic
// plan a prepared statement ends up with.
import assert from 'node:assert/strict';
import pg from 'pg';
import { testOnPostgres } from '../../../test/helpers/postgres.js';
import type { RunFilter } from '../../core/ports.js';
import { createPostgresStore } from './postgres-store.js';
import { listRunsQuery } from './statements.js';

/** The plan of `filter`'s statement, prepared with its parameters as the store sends them. */
async function planOf(client: pg.Client, filter: RunFilter, after: boolean, mode: 'force_custom_plan' | 'force_generic_plan') {
  const { text, values } = listRunsQuery(filter, after ? { at: 17_100, id: 'r17000' } : undefined, 51);
  await client.query(`SET plan_cache_mode = ${mode}`);
  await client.query('DEALLOCATE ALL');
  await client.query(`PREPARE list AS ${text}`);
  const literals = values.map((value) => (typeof value === 'number' ? String(value) : `'${String(value)}'`));
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE list(${literals.join(', ')})`);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

/** A client of a migrated, empty database at `url`. */
async function migratedClient(url: string): Promise<pg.Client> {
  const store = createPostgresStore({ url });
  await store.migrate();
  await store.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

await testOnPostgres('listRuns by when runs ended reads a range of runs_by_end, without sorting', async (url) => {
  const client = await migratedClient(url);
  try {
    // 20,000 runs: most completed, some failed, a few running; the planner chooses by these statistics.
    await client.query(`INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status)
      SELECT 'r' || i, CASE WHEN i % 3 = 0 THEN 'wf' ELSE 'other' END, 'v1', '{}', i, i + 100,
        CASE WHEN i % 10 = 0 THEN 'failed' WHEN i % 17 = 0 THEN 'running' ELSE 'completed' END
      FROM generate_series(1, 20000) AS i`);
    await client.query('ANALYZE runs');
    const filters: RunFilter[] = [
      { status: 'failed', order: 'updated' },
      { status: 'failed', order: 'updated', updatedFrom: 15_000 },
      { status: 'failed', order: 'updated', workflow: 'wf', updatedFrom: 15_000 },
      { status: 'completed', order: 'updated' },
    ];
    const problems: string[] = [];
    for (const filter of filters) {
      for (const after of [false, true]) {
        for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
          const plan = await planOf(client, filter, after, mode);
          if (!/Index Scan Backward using runs_by_end/.test(plan) || /Sort|Seq Scan/.test(plan)) {
            problems.push(`${JSON.stringify(filter)} after=${after} ${mode}:\n${plan}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await client.end();
  }
});

await testOnPostgres('listRuns of the children of a run reads runs_by_parent, whatever other filter it has', async (url) => {
  const client = await migratedClient(url);
  try {
    // 20,000 runs, a quarter of them children of 500 parents; the planner chooses by these statistics.
    await client.query(`INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status, parent_id)
      SELECT 'r' || i, CASE WHEN i % 3 = 0 THEN 'wf' ELSE 'other' END, 'v1', '{}', i, i + 100,
        CASE WHEN i % 10 = 0 THEN 'failed' WHEN i % 17 = 0 THEN 'running' ELSE 'completed' END,
        CASE WHEN i % 4 = 0 THEN 'p' || (i % 500) END
      FROM generate_series(1, 20000) AS i`);
    await client.query('ANALYZE runs');
    const filters: RunFilter[] = [
      { parentId: 'p20' },
      { parentId: 'p20', workflow: 'wf' },
      { parentId: 'p20', status: 'failed' },
      { parentId: 'p20', status: 'failed', order: 'updated' },
    ];
    const problems: string[] = [];
    for (const filter of filters) {
      for (const after of [false, true]) {
        for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
          const plan = await planOf(client, filter, after, mode);
          if (!/runs_by_parent/.test(plan) || /Seq Scan/.test(plan))
            problems.push(`${JSON.stringify(filter)} after=${after} ${mode}:\n${plan}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await client.end();
  }
});
