import type { Command } from 'commander';
import { z } from 'zod';
import type { ListTasksQuery } from '../../app/operations.js';
import type { CliContext } from '../context.js';
import { formatColumns, formatJson, formatTaskPeople, formatTime, printable } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, integerFlag, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  assignee: z.string().optional(),
  run: z.string().optional(),
  // Checked by the server, which lists the statuses in its message.
  status: z.string().optional(),
  limit: integerFlag(1).optional(),
  cursor: z.string().optional(),
  json: z.boolean().optional(),
});

export function registerTasks(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('tasks')
      .description('list the forms and approvals runs wait for, newest first (people answer them in the web UI)')
      .option('--assignee <username>', 'only tasks this GitLab user may answer')
      .option('--run <id>', 'only tasks of this run')
      .option('--status <status>', 'open, closed, submitted, approved, rejected, timed_out or cancelled (default: all)')
      .option('--limit <n>', 'at most this many tasks (server default 50, at most 500)')
      .option('--cursor <cursor>', 'continue after the previous page')
      .option('--json', 'print the page as JSON')
      .addHelpText(
        'after',
        '\nWHO is who may answer an open task, and who answered a closed one (none: it timed out or was cancelled).\nDUE is when an open task times out; empty when it has no deadline. STATUS overdue: open, but past DUE: it takes no more answers and closes as timed_out when its run next looks at it.',
      ),
  ).action(async (raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const page = await connect(options, context).listTasks({
      ...(options.assignee !== undefined && { assignee: options.assignee }),
      ...(options.run !== undefined && { runId: options.run }),
      ...(options.status !== undefined && { status: options.status as ListTasksQuery['status'] & string }),
      ...(options.limit !== undefined && { limit: options.limit }),
      ...(options.cursor !== undefined && { cursor: options.cursor }),
    });
    if (options.json) {
      context.out(formatJson({ tasks: page.tasks, nextCursor: page.nextCursor ?? null }));
      return;
    }
    if (page.tasks.length === 0) {
      context.err('no tasks');
      return;
    }
    const rows = page.tasks.map((task) => [
      task.id,
      task.kind,
      task.overdue ? 'overdue' : task.status,
      printable(task.title),
      formatTaskPeople(task),
      formatTime(task.createdAt),
      task.dueAt === undefined ? '' : formatTime(task.dueAt),
      task.path,
    ]);
    context.out(formatColumns([['ID', 'KIND', 'STATUS', 'TITLE', 'WHO', 'CREATED', 'DUE', 'PAGE'], ...rows]));
    if (page.nextCursor !== undefined) context.err(`more tasks: add --cursor ${page.nextCursor}`);
  });
}
