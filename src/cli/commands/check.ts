import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AutoflowError } from '../../core/errors.js';
import { cronHasSeconds } from '../../core/cron-pattern.js';
import type { TriggerSpec } from '../../core/model.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { wallTime } from '../format.js';

/** Some workflow files did not pass the check; each was reported on its own line. */
export class CheckFailedError extends AutoflowError {
  constructor(failed: number, total: number) {
    super('check_failed', `${failed} of ${total} workflow file${total === 1 ? '' : 's'} failed the check`);
  }
}

/** Fire times a checked schedule shows: enough to see whether it fires weekly, daily or every minute. */
const SHOWN_FIRE_TIMES = 3;

/**
 * The next times each cron trigger fires (`nextFireTimes`, app/schedules.ts), in its time zone: a pattern that reads
 * fine but means something else (six fields are seconds first) shows it before it is deployed.
 */
function fireTimes(
  triggers: readonly TriggerSpec[],
  nextFireTimes: (trigger: { cron: string; timezone?: string }, after: Date, count: number) => Date[],
  now: Date,
): string[] {
  return triggers.flatMap((trigger) => {
    if (!('cron' in trigger)) return [];
    const timeZone = trigger.timezone ?? 'UTC';
    const shown = nextFireTimes(trigger, now, SHOWN_FIRE_TIMES)
      .map((at) => wallTime(at, timeZone, cronHasSeconds(trigger.cron)))
      .join(', ');
    return [`  ⏱ cron ${JSON.stringify(trigger.cron)} in ${timeZone} fires next: ${shown || 'never'}`];
  });
}

export function registerCheck(program: Command, context: CliContext): void {
  program
    .command('check')
    .description(
      'bundle and validate every workflow file in a folder, or one workflow file, without a server. ' +
        'It does not type-check: run `tsc --noEmit` for that (`autoflow init` sets it up in package.json and CI)',
    )
    .argument('<path>', 'folder of workflow files, or one workflow file')
    .action(async (path: string) => {
      const target = resolve(context.cwd, path);
      if (!existsSync(target)) throw new UsageError(`${path} does not exist; give the workflows folder or a workflow file`);
      // Loaded on demand: the bundler, the sandbox and the cron library are heavy, and the other commands never need them.
      const [{ checkWorkflowDirectory }, { nextFireTimes }] = await Promise.all([
        import('../../app/deploy.js'),
        import('../../app/schedules.js'),
      ]);
      const results = await checkWorkflowDirectory(target);
      for (const result of results) {
        if (result.error === undefined) context.out(`✓ ${result.name ?? '?'} ${result.version?.slice(0, 12) ?? ''}  ${result.file}`);
        // Most errors name the file already (a build error's location, a declaration's problems).
        else context.out(`✗ ${result.error.startsWith(result.file) ? result.error : `${result.file}: ${result.error}`}`);
        for (const warning of result.warnings ?? []) context.out(`  ⚠ ${warning}`);
        for (const line of fireTimes(result.triggers ?? [], nextFireTimes, new Date())) context.out(line);
      }
      const failed = results.filter((result) => result.error !== undefined).length;
      if (failed > 0) throw new CheckFailedError(failed, results.length);
    });
}
