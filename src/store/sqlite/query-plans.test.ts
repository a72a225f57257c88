// Every statement the SQLite store runs must read an index, not the table: EXPLAIN QUERY PLAN of
// each one, on the real schema. A new statement that scans fails here with its plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigrations, loadMigrations } from './migrate.js';
import { HUMAN_TASK_SQL, listHumanTasksSql } from './human-tasks.js';
import { listRunsSql, SQL } from './statements.js';
import { SUBSCRIBER_LEASE_SQL } from './subscriber-leases.js';

/**
 * Statements that may read a whole table: small ones (one row per workflow name / per API token /
 * per deployed version), used at startup, deploy or retention; the calls outstanding, once, when
 * a server shuts down; and the oldest events, from the table's start in seq order, as many as its
 * LIMIT (retention). Deleting a definition checks the key of active_definitions, one row per name.
 */
const MAY_SCAN = new Set([
  'listActiveDefinitions',
  'countApiTokens',
  'addFirstApiToken',
  'deleteApiTokens',
  'releaseCallLeases',
  'oldestEvents',
  'unusedDefinitions',
  'deleteDefinition',
]);
/**
 * Statements that may sort: the versions of one workflow name, a handful of rows, on deploy; the
 * runs started by events about one GitLab object, and the children of one run, found by index, then put in order; the
 * runs holding one concurrency group's slots (about its limit, at most 1,000) or waiting for one, as `autoflow show`
 * names them for a queued run and a run of `cancelInProgress` joins the group.
 */
const MAY_SORT = new Set(['listDefinitionVersions', 'listRuns(subject, false)', 'listRuns(subject, true)', 'slotHolders', 'groupMembers']);
const isChildrenList = (name: string) => name.startsWith('listRuns(children');

function plan(db: Database.Database, sql: string): string[] {
  const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1]!, null]));
  const positional = (sql.match(/\?/g) ?? []).map(() => null);
  const explain = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (Object.keys(named).length ? explain.all(named) : explain.all(...positional)) as Array<{ detail: string }>;
  return rows.map((row) => row.detail);
}

test('every statement reads through an index', () => {
  const db = new Database(':memory:');
  applyMigrations(db, loadMigrations(), ':memory:');
  const statements: Array<[string, string]> = Object.entries(SQL);
  for (const workflow of [undefined, 'wf']) {
    for (const status of [undefined, 'running' as const]) {
      for (const after of [false, true]) {
        statements.push([`listRuns(${workflow ?? '-'}, ${status ?? '-'}, ${after})`, listRunsSql({ workflow, status }, after)]);
      }
    }
  }
  for (const after of [false, true]) statements.push([`listRuns(subject, ${after})`, listRunsSql({ subject: 'demo/app#42' }, after)]);
  // By when runs ended: a range of the partial index runs_by_end, not runs_by_status and a sort.
  for (const workflow of [undefined, 'wf']) {
    for (const updatedFrom of [undefined, 1]) {
      for (const after of [false, true]) {
        const filter = { workflow, status: 'failed' as const, order: 'updated' as const, updatedFrom };
        statements.push([`listRuns(${workflow ?? '-'}, failed, updated from ${updatedFrom ?? '-'}, ${after})`, listRunsSql(filter, after)]);
      }
    }
  }
  // The children of a run: those of runs_by_parent, even where another filter's index has the order and spares the sort.
  for (const workflow of [undefined, 'wf']) {
    for (const status of [undefined, 'failed' as const]) {
      for (const order of ['created' as const, 'updated' as const]) {
        if (order === 'updated' && status === undefined) continue;
        for (const after of [false, true]) {
          const filter = { parentId: 'rel1', workflow, status, order };
          statements.push([`listRuns(children, ${workflow ?? '-'}, ${status ?? '-'}, ${order}, ${after})`, listRunsSql(filter, after)]);
        }
      }
    }
  }
  statements.push(...Object.entries(HUMAN_TASK_SQL).map(([name, sql]): [string, string] => [`humanTasks.${name}`, sql]));
  statements.push(...Object.entries(SUBSCRIBER_LEASE_SQL).map(([name, sql]): [string, string] => [`subscriberLeases.${name}`, sql]));
  for (const eligible of [undefined, 'alice']) {
    for (const runId of [undefined, 'r1']) {
      for (const status of [undefined, 'open' as const, 'closed' as const]) {
        for (const after of [false, true]) {
          statements.push([
            `listHumanTasks(${eligible ?? '-'}, ${runId ?? '-'}, ${status ?? '-'}, ${after})`,
            listHumanTasksSql({ eligible, runId, status }, after),
          ]);
        }
      }
    }
  }
  const problems: string[] = [];
  for (const [name, sql] of statements) {
    const details = plan(db, sql);
    // `SCAN x` without `USING … INDEX` reads all of table (or alias) x; scanning a CTE of the query is fine.
    const ctes = [...sql.matchAll(/WITH RECURSIVE (\w+)/g)].map((m) => m[1]);
    const scans = details.filter((d) => /^SCAN \w+$/.test(d) && d !== 'SCAN CONSTANT ROW' && !ctes.includes(d.slice(5)));
    const sorts = details.filter((d) => d.includes('TEMP B-TREE'));
    if (scans.length && !MAY_SCAN.has(name)) problems.push(`${name} scans a table: ${details.join(' | ')}`);
    if (sorts.length && !MAY_SORT.has(name) && !isChildrenList(name))
      problems.push(`${name} sorts in a temp b-tree: ${details.join(' | ')}`);
    if (name.includes(', updated from') && !details.some((d) => d.startsWith('SEARCH runs USING INDEX runs_by_end (status=?'))) {
      problems.push(`${name} does not read a range of runs_by_end: ${details.join(' | ')}`);
    }
    if (isChildrenList(name) && !details.some((d) => d.startsWith('SEARCH runs USING INDEX runs_by_parent (parent_id=?)'))) {
      problems.push(`${name} does not read the children on runs_by_parent: ${details.join(' | ')}`);
    }
  }
  db.close();
  assert.deepEqual(problems, []);
});
