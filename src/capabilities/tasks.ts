/**
 * The host side of `tasks.form` / `tasks.approval`: stores the task a run waits for, tells
 * outgoing subscribers about it, and closes it when the run's deadline passes or the run gives up.
 * A workflow acts only on the tasks its own run created.
 */
import { z } from 'zod';
import { CapabilityError, PermissionDeniedError } from '../core/errors.js';
import { withEventChain } from '../core/event-chain.js';
import { checkTaskSpec, closedOutcome, humanTaskId, pendingPeople } from '../core/human-task-rules.js';
import { taskClosedEvent, taskStorageProblems, type HumanTaskOutcome, type HumanTaskRecord } from '../core/human-task.js';
import type { CloudEvent, Json, JsonObject } from '../core/model.js';
import type { Capability, CapabilityContext, Store } from '../core/ports.js';
import { parseArgs } from './args.js';
import type { Ingest } from './emit.js';

/** Told to subscribers: the events a run's tasks put into the inbox under the workflow's source, as its own `emit`s. */
export const TASK_OPENED_EVENT = 'autoflow.task.opened';
export const TASK_REMINDER_EVENT = 'autoflow.task.reminder';

export interface TasksCapabilityOptions {
  store: Store;
  /** Puts the `autoflow.task.opened` / `.reminder` / `.closed` events into the inbox. */
  ingest: Ingest;
  /** Where people reach the web UI; task URLs start with it. */
  publicUrl: string;
  /**
   * How many emits led to the event that started run `runId` (core/event-chain.ts): a task's opened and reminder
   * events start runs like an emitted event, and carry one more, so that workflows opening tasks for each other end.
   */
  chainOf(runId: string): Promise<number>;
}

const createSchema = z.object({
  kind: z.enum(['form', 'approval']),
  spec: z.record(z.string(), z.json()),
  eligible: z.array(z.string().min(1).max(255)).min(1).max(10_000),
  dueAt: z.number().int().positive().optional(),
});
const idSchema = z.object({ id: z.string().regex(/^tk_[0-9a-f]{16}$/, 'a task id (tk_ and 16 hex digits)') });

/** The most a close may race with a person's answer before it gives up and is retried. */
const CLOSE_ATTEMPTS = 5;

export function createTasksCapability(options: TasksCapabilityOptions): Capability {
  const { store } = options;
  const urlOf = (id: string) => `${options.publicUrl.replace(/\/+$/, '')}/tasks/${id}`;

  async function ownTask(raw: Json, call: string, context: CapabilityContext): Promise<HumanTaskRecord> {
    const { id } = parseArgs(idSchema, raw, call);
    const task = await store.getHumanTask(id);
    if (!task || task.runId !== context.runId) {
      throw new PermissionDeniedError(`${call}: task ${id} does not belong to this run`, { task: id });
    }
    return task;
  }

  /** A task's event for the outside, which may start runs: one link further in its run's chain (see chainOf). */
  async function outgoing(type: string, task: HumanTaskRecord, context: CapabilityContext, data: JsonObject): Promise<CloudEvent> {
    return withEventChain(event(type, task, context, data), (await options.chainOf(context.runId)) + 1);
  }

  function event(type: string, task: HumanTaskRecord, context: CapabilityContext, data: JsonObject): CloudEvent {
    return {
      specversion: '1.0',
      id: context.idempotencyKey,
      source: `autoflow:workflow/${context.workflow}`,
      type,
      subject: task.id,
      time: new Date(context.now).toISOString(),
      data: { id: task.id, title: task.title, kind: task.kind, url: urlOf(task.id), runId: task.runId, ...data },
    };
  }

  /** Closes an open task as `status`; an answer that came first wins and is returned instead. */
  async function close(task: HumanTaskRecord, status: 'timed_out' | 'cancelled', at: number): Promise<HumanTaskOutcome> {
    let current: HumanTaskRecord | undefined = task;
    for (let attempt = 0; attempt < CLOSE_ATTEMPTS && current; attempt++) {
      if (current.status !== 'open') return current.outcome ?? closedOutcome(current, 'cancelled');
      const outcome = closedOutcome(current, status);
      const applied = await store.updateHumanTask({
        id: current.id,
        expectedRevision: current.revision,
        status,
        decisions: current.decisions,
        outcome,
        closedAt: at,
      });
      if (applied) {
        // As for an answer: a `result()` of the run waiting meanwhile wakes at once, and subscribers hear of it.
        const closed = taskClosedEvent(current.id, outcome, at);
        await options.ingest(closed.event, closed.dedupeKey);
        return outcome;
      }
      current = await store.getHumanTask(task.id);
    }
    throw new CapabilityError('task_busy', `task ${task.id} kept changing while it was being closed`, { retryable: true });
  }

  return {
    name: 'tasks',
    // Specs are stored and shown to people: secrets stay `{{secret:NAME}}` references.
    storesArguments: true,
    async invoke(method, raw, context): Promise<Json> {
      switch (method) {
        case 'create': {
          const args = parseArgs(createSchema, raw, 'tasks.create');
          // Refused for good here: from the store, text it cannot hold would fail every attempt of the call.
          const problems = [...checkTaskSpec(args.kind, args.spec), ...taskStorageProblems(args.spec, args.eligible)];
          if (problems.length > 0) {
            throw new CapabilityError('invalid_task', `tasks.${args.kind}(): ${problems.join('; ')}`, {
              retryable: false,
              details: { problems },
            });
          }
          const { created, task } = await store.createHumanTask({
            id: humanTaskId(context.runId, context.step),
            runId: context.runId,
            workflow: context.workflow,
            kind: args.kind,
            title: args.spec['title'] as string,
            spec: args.spec,
            eligible: [...new Set(args.eligible.map((user) => user.toLowerCase()))],
            status: 'open',
            decisions: [],
            createdAt: context.now,
            ...(args.dueAt !== undefined && { dueAt: args.dueAt }),
            revision: 0,
          });
          if (created) {
            const opened = await outgoing(TASK_OPENED_EVENT, task, context, { eligible: task.eligible });
            await options.ingest(opened, `task:${task.id}:opened`);
          }
          return { id: task.id, url: urlOf(task.id), eligible: task.eligible };
        }
        case 'state': {
          const task = await ownTask(raw, 'tasks.state', context);
          return { status: task.status, outcome: (task.outcome ?? null) as Json, pending: pendingPeople(task) };
        }
        case 'remind': {
          const task = await ownTask(raw, 'tasks.remind', context);
          if (task.status !== 'open') return { status: task.status, outcome: (task.outcome ?? null) as Json, pending: [] };
          const pending = pendingPeople(task);
          await options.ingest(
            await outgoing(TASK_REMINDER_EVENT, task, context, { pending }),
            `task:${task.id}:remind:${context.idempotencyKey}`,
          );
          return { status: task.status, pending };
        }
        case 'expire':
          return (await close(await ownTask(raw, 'tasks.expire', context), 'timed_out', context.now)) as Json;
        case 'cancel':
          return (await close(await ownTask(raw, 'tasks.cancel', context), 'cancelled', context.now)) as Json;
        default:
          throw new CapabilityError('unknown_method', `tasks has no method '${method}'`, { retryable: false });
      }
    },
  };
}
