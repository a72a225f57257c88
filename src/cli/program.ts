import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { toError } from '../core/errors.js';
import { registerBackup } from './commands/backup.js';
import { registerCancel } from './commands/cancel.js';
import { registerCheck } from './commands/check.js';
import { registerExport } from './commands/export.js';
import { registerInit } from './commands/init.js';
import { registerLogs } from './commands/logs.js';
import { registerReplay } from './commands/replay.js';
import { registerRetry } from './commands/retry.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSendEvent } from './commands/send-event.js';
import { registerServer } from './commands/server.js';
import { registerShow } from './commands/show.js';
import { registerSignal } from './commands/signal.js';
import { registerSimulate } from './commands/simulate.js';
import { registerTasks } from './commands/tasks.js';
import { registerTerminate } from './commands/terminate.js';
import { registerTest } from './commands/test.js';
import { registerToken } from './commands/token.js';
import { registerUndeploy } from './commands/undeploy.js';
import { registerWait } from './commands/wait.js';
import { registerWorkflows } from './commands/workflows.js';
import type { CliContext } from './context.js';
import { describeError, exitCodeOf, UsageError } from './errors.js';

/**
 * An empty argument (`autoflow show ''`, often an unset shell variable) is never a valid id, name
 * or path: refused before the command runs, instead of reaching the server as another URL.
 * Variadic arguments are left alone: `simulate`'s may be an empty text.
 */
function refuseEmptyArguments(_program: Command, command: Command): void {
  command.registeredArguments.forEach((argument, index) => {
    const value: unknown = command.processedArgs[index];
    if (argument.variadic || typeof value !== 'string' || value.trim() !== '') return;
    throw new UsageError(`<${argument.name()}> is empty; give ${argument.description ? `the ${argument.description}` : 'a value'}`);
  });
}

function createProgram(context: CliContext): Command {
  const program = new Command('autoflow')
    .description('Durable TypeScript workflows for GitLab automation')
    .version(packageJson.version)
    .option('--debug', 'print stack traces of errors')
    // Set before the subcommands exist: commander copies these settings into each one.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => context.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.err(text.replace(/\n$/, '')),
    })
    .hook('preAction', refuseEmptyArguments);
  for (const register of [
    registerServer,
    registerRun,
    registerWait,
    registerRuns,
    registerShow,
    registerLogs,
    registerCancel,
    registerTerminate,
    registerRetry,
    registerSignal,
    registerTasks,
    registerSendEvent,
    registerWorkflows,
    registerUndeploy,
    registerCheck,
    registerSimulate,
    registerInit,
    registerTest,
    registerExport,
    registerReplay,
    registerBackup,
    registerToken,
  ]) {
    register(program, context);
  }
  return program;
}

/**
 * Runs the CLI on `args` (without `node` and the script) and returns the exit code. The one place
 * where errors become exit codes and messages: 2 for a wrong invocation, 1 for a failure.
 */
export async function runCli(args: readonly string[], context: CliContext): Promise<number> {
  const program = createProgram(context);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (caught) {
    const error = toError(caught);
    const message = describeError(error, program.opts<{ debug?: boolean }>().debug === true);
    if (message !== undefined) context.err(message);
    return exitCodeOf(error);
  }
}
