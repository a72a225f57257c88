import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AutoflowError } from '../../core/errors.js';
import { cronHasSeconds } from '../../core/cron-pattern.js';
import type { TriggerSpec } from '../../core/model.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { wallTime } from '../format.js';
import { parseOptions } from '../options.js';

/** Some workflow files did not pass the check (or, with --strict, had warnings); each was reported on its own line. */
export class CheckFailedError extends AutoflowError {
  constructor(message: string) {
    super('check_failed', message);
  }
}

const optionsSchema = z.strictObject({ strict: z.boolean().optional() });

const files = (count: number): string => `${count} workflow file${count === 1 ? '' : 's'}`;

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
    .option('--strict', 'fail (exit 1) on warnings too, such as a trigger that never fires: for CI')
    .action(async (path: string, raw: unknown) => {
      const options = parseOptions(optionsSchema, raw);
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
      if (failed > 0) throw new CheckFailedError(`${failed} of ${files(results.length)} failed the check`);
      const warned = results.filter((result) => (result.warnings ?? []).length > 0).length;
      if (warned > 0 && options.strict) throw new CheckFailedError(`${warned} of ${files(results.length)} had warnings (--strict)`);
    });
}
