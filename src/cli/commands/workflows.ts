import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { formatDeployProblem, formatJson, formatColumns, formatTime, formatTriggers } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, json: z.boolean().optional() });

export function registerWorkflows(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('workflows')
      .description('list the deployed workflows and their active versions, and the workflow files that fail to build (on stderr)')
      .option('--json', 'print them as the API answers them, { workflows, problems }, problems included'),
  ).action(async (raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    const [workflows, problems] = await Promise.all([client.listWorkflows(), client.listDeployProblems()]);
    if (options.json) {
      // What the API answers: a file that fails to build and never deployed is in `problems` alone, where a check after
      // a deploy (`jq '.problems | length == 0'`) sees it.
      context.out(formatJson({ workflows, problems }));
      return;
    }
    if (workflows.length === 0 && problems.length === 0) {
      context.err('no workflows deployed; put workflow files in the folder `autoflow server --workflows` points at');
      return;
    }
    // DEPLOYED: when the version became active, which a rollback to an old version changes; not when it was first
    // stored (`deployedAt`, in --json), which the rollback keeps. Unknown for an activation from before AutoFlow
    // recorded them: the first store then.
    const rows = workflows.map((workflow) => [
      workflow.name,
      workflow.version.slice(0, 12),
      formatTime(workflow.activatedAt ?? workflow.deployedAt),
      formatTriggers(workflow.triggers, workflow.schedules),
    ]);
    if (rows.length > 0) context.out(formatColumns([['NAME', 'VERSION', 'DEPLOYED', 'TRIGGERS'], ...rows]));
    // On stderr, after the list: a script reading stdout still gets the table alone, a person sees both.
    for (const problem of problems) for (const line of formatDeployProblem(problem, workflows)) context.err(line);
  });
}
