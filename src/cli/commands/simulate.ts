import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { kebabCase } from '../../config/flag-names.js';
import { SIMULATOR_ACTIONS } from '../../testing/gitlab-sim/action-catalog.js';
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

/** One line per action, `name  arguments`, as both the help and a bare `autoflow simulate` list them. */
function actionLines(actions: Readonly<Record<string, string>>): string[] {
  const width = Math.max(0, ...Object.keys(actions).map((name) => kebabCase(name).length)) + 2;
  return Object.entries(actions).map(([name, usage]) => `  ${kebabCase(name).padEnd(width)}${usage}`);
}

const HELP = [
  '',
  'Actions (as this version of autoflow knows them; `autoflow simulate` lists those of the server it reaches):',
  ...actionLines(SIMULATOR_ACTIONS),
  '',
  // Issues and merge requests are numbered apart: !2 is not #2, so an action takes one or the other.
  "issue-iid is an issue's number (#2), mr-iid a merge request's (!2): add-labels labels an issue,",
  'add-merge-request-labels a merge request.',
  '',
  'Examples:',
  "  autoflow simulate set-milestone alice demo/app 1 'Sprint 1'",
  '  autoflow simulate add-labels alice demo/app 1 \'["group::environments"]\'',
  '  autoflow simulate open-merge-request bob demo/app \'{"sourceBranch":"fix","title":"Fix","files":{"fix.txt":"x"}}\'',
  '  autoflow simulate add-merge-request-labels bob demo/app 1 \'["workflow::in review"]\'',
  '  autoflow simulate close-merge-request bob demo/app 1',
  '',
  "Prints the result as GitLab's REST API answers the same change.",
].join('\n');

export function registerSimulate(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('simulate')
      .description('make something happen in the built-in GitLab simulator (a server with no GitLab configured) and watch workflows react')
      .argument('[action]', 'one of the actions below; none lists those of the server')
      .argument('[args...]', "the action's arguments: numbers and JSON as such, anything else as text")
      .addHelpText('after', HELP),
  ).action(async (action: string | undefined, args: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    if (action === undefined) {
      const info = await client.simulatorInfo();
      const tokens = info.tokens === undefined || info.tokens.length === 0 ? '' : `; tokens for PRIVATE-TOKEN: ${info.tokens.join(', ')}`;
      context.out(`GitLab simulator at ${info.baseUrl} (users: ${info.users.join(', ')}${tokens})`);
      context.out('actions:');
      for (const line of actionLines(info.actions)) context.out(line);
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
