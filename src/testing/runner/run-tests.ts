/**
 * What `autoflow test` does: find the test files, run them with node's own test runner in a child
 * process, and read the totals. Node 20's runner neither expands globs nor finds `.ts` files by
 * itself (DESIGN.md §6), so the file list is collected here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { AutoflowError } from '../../core/errors.js';

/** Folders never searched: dependencies, VCS data, build output, scratch space. */
const SKIP = new Set(['node_modules', '.git', '.tmp', 'data', 'dist', 'coverage']);
const TEST_FILE = /\.test\.[mc]?[jt]s$/;

/** Whether `path` is named like a test file: `*.test.ts`, `.mts`, `.js`, `.mjs`. */
const isTestFile = (path: string): boolean => TEST_FILE.test(path);

const REGISTER = new URL('./register.mjs', import.meta.url).href;
const SUMMARY_REPORTER = new URL('./summary-reporter.mjs', import.meta.url).href;

/** A file named to `autoflow test` is not a test file: running it would run a workflow's module as if it were one. */
export class NotATestFileError extends AutoflowError {
  constructor(readonly files: readonly string[]) {
    const shown = files.map((file) => relative(process.cwd(), file) || file);
    super(
      'not_a_test_file',
      `${shown.join(', ')} ${shown.length === 1 ? 'is not a test file' : 'are not test files'} (*.test.ts); tests live in *.test.ts files beside the workflows: name those, or the folders that hold them`,
    );
  }
}

/**
 * Test files (`*.test.ts`, `.mts`, `.js`, `.mjs`) under each folder, and each file named
 * directly, sorted and without repeats. Paths that do not exist are the caller's to report.
 * @throws NotATestFileError when a file named directly is not named like a test file; nothing has run then.
 */
export function findTestFiles(paths: readonly string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (SKIP.has(name)) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (TEST_FILE.test(name)) found.add(path);
    }
  };
  const notTests: string[] = [];
  for (const path of paths.map((item) => resolve(item))) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (isTestFile(path)) found.add(path);
    else notTests.push(path);
  }
  if (notTests.length > 0) throw new NotATestFileError(notTests);
  return [...found].sort();
}

/** Node's totals for the run (`tests`, `pass`, `fail`, `skipped`, `duration_ms`…). */
export type TestTotals = Partial<Record<'tests' | 'suites' | 'pass' | 'fail' | 'cancelled' | 'skipped' | 'todo' | 'duration_ms', number>>;

export interface RunTestsOptions {
  files: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Re-run on changes (node's `--watch`); the run then ends only when interrupted. */
  watch?: boolean;
  /** A report to write besides the terminal's: one of node's reporters (`junit`…) or a reporter module, to a file. */
  report?: { reporter: string; destination: string };
}

export interface RunTestsResult {
  /** The runner's exit code. */
  code: number;
  /** When the run finished: node's totals, less the files node 20 counts as a passing test because they define none. */
  totals?: TestTotals;
  /** When the run finished: the files that defined at least one test. */
  tested?: string[];
}

/**
 * Runs `files` with `node --test` and the spec reporter on this process's terminal. Resolves with
 * the runner's exit code and, when the run finished, its totals.
 */
export async function runTests(options: RunTestsOptions): Promise<RunTestsResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'autoflow-test-'));
  const totalsFile = join(scratch, 'totals.json');
  const args = [
    // Failures then point at the test's own line: node's runner locates a test through the source map tsx inlines
    // (only while source maps are enabled), where without one it reported the transformed file's line 1.
    '--enable-source-maps',
    '--import',
    REGISTER,
    '--test',
    ...(options.watch ? ['--watch'] : []),
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${SUMMARY_REPORTER}`,
    `--test-reporter-destination=${totalsFile}`,
    ...(options.report ? [`--test-reporter=${options.report.reporter}`, `--test-reporter-destination=${options.report.destination}`] : []),
    ...options.files,
  ];
  try {
    const code = await new Promise<number>((done, fail) => {
      // Inherited streams: the spec reporter's colours and progress reach the terminal as they happen.
      // NODE_TEST_CONTEXT tells a node process that a test runner above it collects its results: set
      // when `autoflow test` itself runs inside a test, it would turn this run's report into a child's.
      const { NODE_TEST_CONTEXT: _parent, ...env } = options.env;
      const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: 'inherit' });
      child.once('error', fail);
      child.once('exit', (exitCode, signal) => done(exitCode ?? (signal ? 128 : 1)));
    });
    const text = existsSync(totalsFile) ? readFileSync(totalsFile, 'utf8').trim() : '';
    if (text === '') return { code };
    const { totals, tested } = JSON.parse(text) as { totals: TestTotals; tested: string[] };
    return { code, totals, tested };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
