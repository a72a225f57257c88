import { gitlab, workflow } from 'autoflow';

interface IssueHook {
  data: { project: { id: number }; object_attributes: { iid: number } };
}

const IMPLIED = ['devops::deploy', 'section::cd'];

/** The seed's second use case: an issue labelled `group::environments` also gets its stage and section labels. */
export default workflow({
  name: 'environments-labels',
  description: 'group::environments → add devops::deploy and section::cd',
  triggers: [
    { event: 'com.gitlab.events.issue_created', filter: { 'labels.title': 'group::environments' } },
    { event: 'com.gitlab.events.issue_updated', filter: { 'labels.title': 'group::environments', 'changes.labels': { exists: true } } },
  ],
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(event: IssueHook) {
    const { project, object_attributes: hook } = event.data;
    // Read the issue now: the labels may have changed since the hook was sent, and our own edit
    // comes back as a hook too — with nothing missing, this run changes nothing and the loop ends.
    const issue = await gitlab.issues.get(project.id, hook.iid);
    if (!issue.labels.includes('group::environments')) return { added: [] };
    const missing = IMPLIED.filter((label) => !issue.labels.includes(label));
    if (missing.length > 0) await gitlab.issues.edit(project.id, hook.iid, { add_labels: missing.join(',') });
    return { added: missing };
  },
});
