import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreConformance } from '../conformance/store-conformance.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-sqlite-conformance-'));
let count = 0;

describeStoreConformance(
  'sqlite',
  () => Promise.resolve(createSqliteStore({ path: join(dir, `store-${++count}.db`) })),
  () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
);
