import { gitlab, workflow } from 'autoflow';

/**
 * GitLab's own AutoFlow prototype use case, issue status automation: milestone set (not Backlog)
 * → ready for development; a merge request that closes the issue is opened → in progress; it
 * gets a reviewer → in review; it is merged → verification, assigned to QA with a comment.
 * `status::` labels are scoped: each replaces the previous one, as GitLab does.
 */
const QA_USERNAME = 'carol';

const STATUS = {
  ready: 'status::ready for development',
  progress: 'status::in progress',
  review: 'status::in review',
  verification: 'status::verification',
} as const;

interface Hook {
  type: string;
  data: {
    project: { id: number };
    object_attributes: { iid: number; milestone_id?: number | null };
    changes?: Record<string, unknown>;
  };
}

export default workflow({
  name: 'issue-status',
  description: 'Moves an issue through status:: labels as its milestone and merge request progress',
  triggers: [
    { event: 'com.gitlab.events.issue_updated', filter: { 'changes.milestone_id': { exists: true } } },
    { event: 'com.gitlab.events.merge_request_created' },
    { event: 'com.gitlab.events.merge_request_updated', filter: { 'changes.reviewers': { exists: true } } },
    { event: 'com.gitlab.events.merge_request_merged' },
  ],
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(event: Hook) {
    const project = event.data.project.id;
    const iid = event.data.object_attributes.iid;
    if (event.type === 'com.gitlab.events.issue_updated') {
      const issue = await gitlab.issues.get(project, iid);
      if (!issue.milestone || issue.milestone.title === 'Backlog') return { moved: [] };
      return { moved: await setStatus(project, [iid], STATUS.ready) };
    }
    const issues = (await gitlab.mergeRequests.closesIssues(project, iid, { all: true })).map((issue) => issue.iid);
    switch (event.type) {
      case 'com.gitlab.events.merge_request_created':
        return { moved: await setStatus(project, issues, STATUS.progress) };
      case 'com.gitlab.events.merge_request_updated': {
        const reviewers = (event.data.changes?.reviewers as { current?: unknown[] } | undefined)?.current ?? [];
        return { moved: reviewers.length > 0 ? await setStatus(project, issues, STATUS.review) : [] };
      }
      default: {
        const moved = await setStatus(project, issues, STATUS.verification);
        const qa = await gitlab.users.byUsername(QA_USERNAME);
        for (const issue of moved) {
          if (qa) await gitlab.issues.edit(project, issue, { assignee_ids: [qa.id] });
          await gitlab.notes.create({ project, issueIid: issue, body: `Merged in !${iid}: ready for verification${qa ? ` by @${qa.username}` : ''}.` });
        }
        return { moved };
      }
    }
  },
});

/** Adds `label` to each issue that does not have it yet; returns the issues it changed. */
async function setStatus(project: number, issues: number[], label: string): Promise<number[]> {
  const changed: number[] = [];
  for (const iid of issues) {
    const issue = await gitlab.issues.get(project, iid);
    if (issue.labels.includes(label)) continue;
    await gitlab.issues.edit(project, iid, { add_labels: label });
    changed.push(iid);
  }
  return changed;
}
