import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../config/index.js';
import { AutoflowError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  watch: z.boolean().optional(),
  reporter: z.string().optional(),
  reporterDestination: z.string().optional(),
});

/** Some tests failed, or the runner itself did; the spec output above says which. */
export class TestsFailedError extends AutoflowError {
  constructor(message: string) {
    super('tests_failed', message);
  }
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

export function registerTest(program: Command, context: CliContext): void {
  program
    .command('test')
    .description("run workflow tests (*.test.ts) with node's test runner; `autoflow/testing` gives them virtual time and a GitLab")
    .argument('[paths...]', 'test files or folders to search (default: the workflows folder and examples/)')
    .option('--watch', 'run again whenever a file changes')
    .option(
      '--reporter <name>',
      "also write a report in this format of node's test runner (junit, tap, dot, spec, lcov, or a reporter module) to --reporter-destination; the terminal keeps the spec report",
    )
    .option('--reporter-destination <file>', 'the file --reporter writes, e.g. junit.xml for a GitLab test report')
    .action(async (paths: string[], raw: unknown) => {
      const options = parseOptions(optionsSchema, raw);
      if ((options.reporter === undefined) !== (options.reporterDestination === undefined))
        throw new UsageError(
          '--reporter and --reporter-destination go together: autoflow test --reporter junit --reporter-destination junit.xml',
        );
      const missing = paths.filter((path) => !existsSync(resolve(context.cwd, path)));
      if (missing.length > 0) throw new UsageError(`no such file or folder: ${missing.join(', ')}`);
      // The workflows folder as `autoflow server` would find it (flags aside): AUTOFLOW_WORKFLOWS, autoflow.config.ts, ./workflows.
      const roots =
        paths.length > 0
          ? paths.map((path) => resolve(context.cwd, path))
          : [(await loadConfig({ env: context.env, cwd: context.cwd })).workflowsDir, resolve(context.cwd, 'examples')];
      // Loaded on demand, like the engine for `check`: the client commands never need it.
      const { findTestFiles, runTests } = await import('../../testing/runner/run-tests.js');
      const files = findTestFiles(roots);
      if (files.length === 0) {
        // A test command that finds nothing must not pass silently (DESIGN.md §6).
        const where = roots.map((root) => relative(context.cwd, root) || '.').join(', ');
        throw new AutoflowError(
          'no_tests',
          `no test files (*.test.ts) in ${where}; write one beside a workflow (docs/testing.md), or name files and folders: autoflow test <paths…>`,
        );
      }
      const { code, totals, tested } = await runTests({
        files,
        cwd: context.cwd,
        env: context.env,
        ...(options.reporter !== undefined &&
          options.reporterDestination !== undefined && {
            report: { reporter: options.reporter, destination: resolve(context.cwd, options.reporterDestination) },
          }),
        ...(options.watch ? { watch: true } : {}),
      });
      const failed = (totals?.fail ?? 0) + (totals?.cancelled ?? 0);
      // A file named on the command line must define a test; one that fails to load is a failure already.
      const named = paths.map((path) => resolve(context.cwd, path)).filter((path) => statSync(path).isFile());
      const untested = code === 0 && tested !== undefined ? named.filter((file) => !tested.includes(file)) : [];
      if (totals?.tests !== undefined) {
        const extra = [totals.skipped ? `${totals.skipped} skipped` : '', totals.todo ? `${totals.todo} todo` : '']
          .filter(Boolean)
          .join(', ');
        const seconds = ((totals.duration_ms ?? 0) / 1000).toFixed(1);
        context.out(
          `${failed > 0 || untested.length > 0 ? '✗' : '✓'} ${totals.pass ?? 0} passed, ${failed} failed${extra ? `, ${extra}` : ''} — ${plural(totals.tests, 'test')} in ${plural(files.length, 'file')} (${seconds} s)`,
        );
      }
      if (code !== 0) {
        throw new TestsFailedError(failed > 0 ? `${plural(failed, 'test')} failed` : `the test runner exited with code ${code}`);
      }
      if (untested.length > 0) {
        const shown = untested.map((file) => relative(context.cwd, file));
        // Every file here is named like a test file: findTestFiles refused the others before anything ran.
        throw new AutoflowError(
          'no_tests',
          `${shown.join(', ')} define${shown.length === 1 ? 's' : ''} no test; add a test() to it, or leave it out`,
        );
      }
    });
}
