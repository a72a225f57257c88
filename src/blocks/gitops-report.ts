import { gitlab } from '../sdk/gitlab.js';
import type { CommitState, Deployment, DeploymentStatus, Issue } from '../sdk/gitlab-types.js';

/**
 * What the gate tells GitLab: a commit status per environment, a deployment record per
 * environment, and one issue per gate that failures open (or add to) and a later success closes.
 */
export interface Reporter {
  /** `targetUrl` defaults to the run's page. */
  status(environment: string, state: CommitState, description: string, targetUrl?: string): Promise<void>;
  /**
   * Attaches later statuses to this pipeline (GitLab's `pipeline_id`). When it replaces the
   * pipeline followed so far (a red pipeline re-run as a new one), a status still `pending` or
   * `running` in the old one is set `failed` there first: that pipeline is not green and never will
   * be, and an open external status would hold it at running for good.
   */
  follow(pipelineId: number): Promise<void>;
  deployment(environment: string, status: DeploymentStatus): Promise<void>;
  failure(title: string, body: string): Promise<Issue>;
  recovered(body: string): Promise<void>;
  /**
   * Ends what the gate left open — commit statuses still `pending`/`running`, deployments still
   * `running` — as `state`: a gate that stops half-way must not leave a `running` status behind,
   * which would hold the commit's pipeline at running for good.
   */
  closeOpen(state: 'canceled' | 'failed', description: string): Promise<void>;
}

const OPEN_STATES: ReadonlySet<CommitState> = new Set(['pending', 'running']);

/** Every commit status the gate sets is named `autoflow/gitops: <environment>`. */
export const STATUS_PREFIX = 'autoflow/gitops: ';
export const statusName = (environment: string): string => `${STATUS_PREFIX}${environment}`;

export function createReporter(context: {
  gate: string;
  project: string;
  sha: string;
  ref: string;
  tag: boolean;
  link: string | undefined;
  labels: string[];
}): Reporter {
  const { project, sha, ref, tag, link } = context;
  let pipelineId: number | undefined;
  /** The last state set per environment, to find what `closeOpen` must close. */
  const states = new Map<string, CommitState>();
  const deployments = new Map<string, { id: number; status: DeploymentStatus }>();
  const issueTitle = `GitOps gate ${context.gate} is failing`;

  async function openIssue(): Promise<Issue | undefined> {
    const open = await gitlab.issues.list(project, { state: 'opened', labels: context.labels.join(',') }, { all: true });
    return open.find((issue) => issue.title === issueTitle);
  }

  return {
    async follow(id) {
      const replaced = pipelineId;
      if (replaced === id) return;
      if (replaced !== undefined) {
        for (const [environment, last] of states)
          if (OPEN_STATES.has(last))
            await this.status(environment, 'failed', `pipeline #${replaced} was replaced by #${id}: not deployed from it`);
      }
      pipelineId = id;
    },

    async status(environment, state, description, targetUrl = link) {
      await gitlab.commitStatuses.set(project, sha, {
        state,
        name: statusName(environment),
        ref,
        description: description.slice(0, 255),
        ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
        ...(pipelineId === undefined ? {} : { pipeline_id: pipelineId }),
      });
      states.set(environment, state);
    },

    async deployment(environment, status) {
      const known = deployments.get(environment);
      if (known !== undefined) {
        await gitlab.deployments.update(project, known.id, { status });
        known.status = status;
        return;
      }
      // Deployment creates are not deduplicated by GitLab: after a crash between the create and its
      // recording, the retry finds the record it made instead of adding a second one.
      const existing = (await gitlab.deployments.list(project, { environment, status: 'running' }, { all: true })).find(
        (deployment: Deployment) => deployment.sha === sha && deployment.deployable === null,
      );
      const created = existing ?? (await gitlab.deployments.create(project, { environment, sha, ref, tag, status }));
      deployments.set(environment, { id: created.id, status });
      if (existing && existing.status !== status) await gitlab.deployments.update(project, existing.id, { status });
    },

    async failure(title, body) {
      const note = `### ${title}\n\n${body}${link === undefined ? '' : `\n\nRun: ${link}`}\n\nCommit: ${sha} (${ref})`;
      const issue = await openIssue();
      if (issue) {
        await gitlab.notes.create({ project, issueIid: issue.iid, body: note });
        return issue;
      }
      return gitlab.issues.create(project, {
        title: issueTitle,
        labels: context.labels.join(','),
        description: `AutoFlow's GitOps gate \`${context.gate}\` did not deploy a commit. Each failure is added here as a comment; the issue is closed when a later commit deploys.\n\n${note}`,
      });
    },

    async recovered(body) {
      const issue = await openIssue();
      if (!issue) return;
      await gitlab.notes.create({ project, issueIid: issue.iid, body: `${body}${link === undefined ? '' : `\n\nRun: ${link}`}` });
      await gitlab.issues.close(project, issue.iid);
    },

    async closeOpen(state, description) {
      for (const [environment, last] of states) if (OPEN_STATES.has(last)) await this.status(environment, state, description);
      for (const [environment, deployment] of deployments) if (deployment.status === 'running') await this.deployment(environment, state);
    },
  };
}
