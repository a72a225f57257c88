import type { Command } from 'commander';
import { resolve } from 'node:path';
import { AutoflowError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

/** Some workflow files did not pass the check; each was reported on its own line. */
export class CheckFailedError extends AutoflowError {
  constructor(failed: number, total: number) {
    super('check_failed', `${failed} of ${total} workflow file${total === 1 ? '' : 's'} failed the check`);
  }
}

export function registerCheck(program: Command, context: CliContext): void {
  program
    .command('check')
    .description('bundle and validate every workflow file in a folder, without a server')
    .argument('<dir>', 'folder of workflow files')
    .action(async (dir: string) => {
      // Loaded on demand: the bundler and the sandbox are heavy, and the other commands never need them.
      const { checkWorkflowDirectory } = await import('../../app/deploy.js');
      const results = await checkWorkflowDirectory(resolve(context.cwd, dir));
      for (const result of results) {
        if (result.error === undefined) context.out(`✓ ${result.name ?? '?'} ${result.version?.slice(0, 12) ?? ''}  ${result.file}`);
        else context.out(`✗ ${result.file}: ${result.error}`);
        for (const warning of result.warnings ?? []) context.out(`  ⚠ ${warning}`);
      }
      const failed = results.filter((result) => result.error !== undefined).length;
      if (failed > 0) throw new CheckFailedError(failed, results.length);
    });
}
