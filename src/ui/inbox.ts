import type { Operations, TaskView } from '../app/operations.js';
import { waitsFor } from './pages/tasks.js';

/**
 * My tasks: the open tasks that still wait for a user, newest first (the order the store pages in; a page sorted by
 * due date would need every open task read first). The store lists what a user is eligible for, which includes
 * approvals they already decided that wait for others; those are left out here, so a page is filled from as many
 * store pages as it takes.
 */

type TaskLister = Pick<Operations, 'listTasks'>;

/** Tasks on one page of My tasks. */
export const INBOX_PAGE_SIZE = 50;

/**
 * Store reads one page makes at most. A long run of approvals the user already decided would otherwise read the whole
 * list for one page; past this, the page shows what it found and its "older" link goes on from there.
 */
const READS_PER_PAGE = 10;

/** Open tasks counted at most; beyond, the count is a lower bound. */
export const INBOX_COUNTED = 2000;
const COUNT_READ = 500;

export interface InboxPage {
  tasks: TaskView[];
  /** Where the older tasks start; absent when none follow. */
  nextCursor?: string;
}

export interface InboxCount {
  count: number;
  /** More than INBOX_COUNTED open tasks: `count` is what the newest of them hold. */
  more: boolean;
}

function openTasksOf(operations: TaskLister, username: string, limit: number, cursor: string | undefined) {
  return operations.listTasks({ assignee: username, status: 'open', limit, ...(cursor !== undefined && { cursor }) });
}

/** The page of My tasks that starts at `cursor` (the newest tasks without one). */
export async function readInboxPage(operations: TaskLister, username: string, cursor?: string): Promise<InboxPage> {
  const tasks: TaskView[] = [];
  let at = cursor;
  let reads = 0;
  do {
    // No more rows than the page still lacks: every row read is then shown or left out, so the store's cursor after
    // the last one is where the next page starts. Reading further would lose the rows past the page's last task.
    const page = await openTasksOf(operations, username, INBOX_PAGE_SIZE - tasks.length, at);
    tasks.push(...page.tasks.filter((task) => waitsFor(task, username)));
    at = page.nextCursor;
    reads++;
  } while (at !== undefined && tasks.length < INBOX_PAGE_SIZE && reads < READS_PER_PAGE);
  return { tasks, ...(at !== undefined && { nextCursor: at }) };
}

/** How many open tasks wait for `username`: the number the overview and My tasks show. */
export async function countInbox(operations: TaskLister, username: string): Promise<InboxCount> {
  let count = 0;
  let read = 0;
  let at: string | undefined;
  do {
    const page = await openTasksOf(operations, username, COUNT_READ, at);
    count += page.tasks.filter((task) => waitsFor(task, username)).length;
    read += page.tasks.length;
    at = page.nextCursor;
  } while (at !== undefined && read < INBOX_COUNTED);
  return { count, more: at !== undefined };
}
