import { gitlab, race, tasks, waitFor, workflow } from 'autoflow';

/**
 * A sign-off for merge requests opened with the label `needs-sign-off`: an approval for the `demo`
 * group (not the author), its link posted on the merge request. Closing the merge request cancels the
 * approval: nobody is asked about a change that is gone.
 */
interface MergeRequestHook {
  project: { path_with_namespace: string };
  object_attributes: { iid: number };
  user: { username: string };
}

export default workflow({
  name: 'release-sign-off',
  description: 'An approval for merge requests labelled needs-sign-off, cancelled when the merge request closes',
  triggers: [{ event: 'com.gitlab.events.merge_request_created', filter: { 'labels.title': 'needs-sign-off' } }],
  permissions: { gitlab: { projects: ['demo/*'], groups: ['demo'] } },
  async run(event: { data: MergeRequestHook }) {
    const project = event.data.project.path_with_namespace;
    const iid = event.data.object_attributes.iid;
    const approval = await tasks.openApproval({
      title: `Sign off ${project}!${iid}`,
      approvers: ['group:demo'],
      initiator: event.data.user.username, // may reject, not approve, their own change
      timeout: '3d',
      context: { project, mergeRequestIid: iid },
    });
    await gitlab.notes.create({ project, mergeRequestIid: iid, body: `This change needs a sign-off: ${approval.url}` });
    const first = await race({
      decided: approval.result(),
      closed: waitFor('com.gitlab.events.merge_request_closed', { match: { subject: `${project}!${iid}` } }),
    });
    // `cancelled`, or the decision that came in the same instant as the close.
    const outcome = first.key === 'decided' ? first.value : await approval.cancel();
    return { status: outcome.status, by: outcome.decisions.map((decision) => `${decision.by}:${decision.decision}`) };
  },
});
