import { gitlab, workflow } from 'autoflow';

interface IssueHook {
  data: { project: { id: number }; object_attributes: { iid: number; milestone_id: number | null } };
}

/**
 * The seed's first use case: an issue in milestone "Backlog" gets `workflow::backlog`; in any
 * other milestone, `workflow::ready for dev`. The label is scoped, so GitLab replaces the old one.
 */
export default workflow({
  name: 'milestone-labels',
  description: 'Milestone Backlog → workflow::backlog; any other milestone → workflow::ready for dev',
  triggers: [{ event: 'com.gitlab.events.issue_updated', filter: { 'changes.milestone_id': { exists: true } } }],
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(event: IssueHook) {
    const { project, object_attributes: hook } = event.data;
    if (hook.milestone_id === null) return { label: null, reason: 'milestone removed' };
    // The hook names the milestone by id only; the issue carries its title.
    const issue = await gitlab.issues.get(project.id, hook.iid);
    const label = issue.milestone?.title === 'Backlog' ? 'workflow::backlog' : 'workflow::ready for dev';
    if (!issue.labels.includes(label)) await gitlab.issues.edit(project.id, hook.iid, { add_labels: label });
    return { label };
  },
});
