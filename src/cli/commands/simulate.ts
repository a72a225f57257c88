import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { kebabCase } from '../../config/flag-names.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape });

/** `set-milestone` → `setMilestone`: actions are typed the way shells like. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Numbers, JSON objects, arrays and null as such; anything else as a string ('demo/app', 'Backlog'). */
function parseArgument(text: string): unknown {
  if (/^-?\d+$/.test(text) || /^[[{]/.test(text) || text === 'null') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function registerSimulate(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('simulate')
      .description('make something happen in the built-in GitLab simulator (a server with no GitLab configured) and watch workflows react')
      .argument('[action]', 'e.g. set-milestone, add-labels, open-merge-request, add-reviewer, merge-merge-request, set-pipeline-status')
      .argument('[args...]', 'the action\'s arguments: numbers and JSON as such, anything else as text')
      .addHelpText('after', '\nExample:\n  autoflow simulate set-milestone alice demo/app 1 \'Sprint 1\'\n  autoflow simulate add-labels alice demo/app 1 \'["group::environments"]\''),
  ).action(async (action: string | undefined, args: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    if (action === undefined) {
      const info = await client.simulatorInfo();
      const tokens = info.tokens === undefined || info.tokens.length === 0 ? '' : `; tokens for PRIVATE-TOKEN: ${info.tokens.join(', ')}`;
      context.out(`GitLab simulator at ${info.baseUrl} (users: ${info.users.join(', ')}${tokens})`);
      context.out('actions:');
      for (const [name, usage] of Object.entries(info.actions)) {
        context.out(`  ${kebabCase(name).padEnd(22)} ${usage}`);
      }
      return;
    }
    const name = camelCase(action);
    const { actions } = await client.simulatorInfo();
    if (!Object.hasOwn(actions, name)) {
      throw new UsageError(`unknown simulator action '${action}'; actions: ${Object.keys(actions).map(kebabCase).join(', ')}`);
    }
    const result = await client.simulate(name, args.map(parseArgument));
    context.out(JSON.stringify(result, null, 2));
  });
}
