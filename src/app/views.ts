import type { ActiveDefinition, DeployedDefinition, RunRecord } from '../core/model.js';
import type { DefinitionSummary, SecretSource } from '../core/ports.js';
import { redactJson } from '../core/secrets.js';
import { continuedAs } from '../core/task.js';
import type { HumanTaskRecord } from '../core/human-task.js';
import type { DeployProblem } from './deploy.js';
import { nextFireTimes } from './schedules.js';
import type { DeployProblemView, RunView, TaskView, WorkflowView } from './operations.js';

/**
 * A run as the API and the web UI show it. `continuedFrom`: the run it continues, when the caller looked it up (see
 * Operations.getRun). Its input is stored as it was given, for the run to read; `secrets` are shown as references in
 * it, as history shows them.
 */
export function toRunView(
  run: RunRecord,
  { continuedFrom, secrets }: { continuedFrom?: string | undefined; secrets?: SecretSource | undefined } = {},
): RunView {
  const view: RunView = {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    input: secrets ? redactJson(run.input, secrets) : run.input,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
  };
  if (run.result !== undefined) view.result = run.result;
  if (run.error !== undefined) view.error = run.error;
  if (run.parentId !== undefined) view.parentId = run.parentId;
  if (run.concurrency !== undefined) view.concurrency = { ...run.concurrency };
  if (continuedFrom !== undefined) view.continuedFrom = continuedFrom;
  const successor = continuedAs(run);
  if (successor !== undefined) view.continuedAs = successor;
  return view;
}

/** The file by its name, not where it lies on the server: workflow files are the top-level files of the workflows folder. */
const fileName = (path: string): string => path.split(/[\\/]/).pop() ?? path;

export function toDeployProblemView(problem: DeployProblem): DeployProblemView {
  const view: DeployProblemView = { file: fileName(problem.file), message: problem.message, since: new Date(problem.since).toISOString() };
  if (problem.workflow !== undefined) view.workflow = problem.workflow;
  return view;
}

/**
 * What `retry --latest` of `run` warns of: the files of its workflow that fail to build (`problems`), whose code the
 * retry does not take; it took `active`, the last version that built.
 */
export function brokenFileWarnings(run: RunView, problems: readonly DeployProblemView[], active: DeployedDefinition | undefined): string[] {
  const deployed = active === undefined ? '' : ` deployed ${new Date(active.deployedAt).toISOString()}`;
  return problems
    .filter((problem) => problem.workflow === run.workflow)
    .map(
      (problem) =>
        `${problem.file} fails to build since ${problem.since}: the retry uses version ${run.version.slice(0, 12)} of ${run.workflow}${deployed}, ` +
        'the last that built, not the code in the file; `autoflow workflows` says why it fails',
    );
}

/**
 * `problems`: the files declaring it that failed to build at the latest deploy (see DeployProblemView); `now`: the
 * time its schedules' next fire times count from.
 */
export function toWorkflowView(
  definition: ActiveDefinition,
  versions: DefinitionSummary[],
  problems: DeployProblemView[] = [],
  now: number = Date.now(),
): WorkflowView {
  const { manifest } = definition;
  const view: WorkflowView = {
    name: definition.name,
    version: definition.version,
    triggers: manifest.triggers,
    permissions: manifest.permissions,
    deployedAt: new Date(definition.deployedAt).toISOString(),
    versions: versions.map((v) => ({ version: v.version, deployedAt: new Date(v.deployedAt).toISOString(), active: v.active })),
  };
  if (manifest.description !== undefined) view.description = manifest.description;
  if (manifest.inputSchema !== undefined) view.inputSchema = manifest.inputSchema;
  if (manifest.concurrency !== undefined) view.concurrency = { ...manifest.concurrency };
  if (definition.origin !== undefined) view.origin = fileName(definition.origin);
  if (definition.activatedAt !== undefined) view.activatedAt = new Date(definition.activatedAt).toISOString();
  if (definition.activatedBy !== undefined) view.activatedBy = definition.activatedBy;
  if (problems.length > 0) view.problems = problems;
  const schedules = manifest.triggers.flatMap((trigger) => {
    if (!('cron' in trigger)) return [];
    const [next] = nextFireTimes(trigger, new Date(now), 1);
    return [{ cron: trigger.cron, timezone: trigger.timezone ?? 'UTC', next: next === undefined ? null : next.toISOString() }];
  });
  if (schedules.length > 0) view.schedules = schedules;
  return view;
}

/** `now`: the time the view is for, which says whether an open task is past its deadline (`overdue`). */
export function toTaskView(task: HumanTaskRecord, now: number): TaskView {
  const view: TaskView = {
    id: task.id,
    runId: task.runId,
    workflow: task.workflow,
    kind: task.kind,
    title: task.title,
    status: task.status,
    spec: task.spec,
    eligible: task.eligible,
    decisions: task.decisions,
    path: `/tasks/${task.id}`,
    createdAt: new Date(task.createdAt).toISOString(),
  };
  if (task.outcome !== undefined) view.outcome = task.outcome;
  if (task.dueAt !== undefined) view.dueAt = new Date(task.dueAt).toISOString();
  if (task.status === 'open' && task.dueAt !== undefined && task.dueAt <= now) view.overdue = true;
  if (task.closedAt !== undefined) view.closedAt = new Date(task.closedAt).toISOString();
  return view;
}
