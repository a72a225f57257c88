import { gitlab, race, tasks, waitFor, workflow, type ApprovalOutcome } from 'autoflow';

/**
 * A sign-off for merge requests opened with the label `needs-sign-off`: an approval for the `demo`
 * group (not the author), its link posted on the merge request. Merging or closing the merge request
 * cancels the approval: nobody is asked about a change that is gone.
 */
interface MergeRequestHook {
  project: { path_with_namespace: string };
  object_attributes: { iid: number };
  user: { username: string };
}

function report(outcome: ApprovalOutcome) {
  return { status: outcome.status, by: outcome.decisions.map((decision) => `${decision.by}:${decision.decision}`) };
}

export default workflow({
  name: 'release-sign-off',
  description: 'An approval for merge requests labelled needs-sign-off, cancelled when the merge request is merged or closed',
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
    const subject = `${project}!${iid}`;
    const first = await race({
      decided: approval.result(),
      merged: waitFor('com.gitlab.events.merge_request_merged', { match: { subject } }),
      closed: waitFor('com.gitlab.events.merge_request_closed', { match: { subject } }),
    });
    if (first.key === 'decided') return report(first.value);
    // `cancelled`, or the decision that came in the same instant as the merge or close: that decision stands.
    const outcome = await approval.cancel();
    return outcome.status === 'cancelled' ? { ...report(outcome), reason: `${first.key} before sign-off` } : report(outcome);
  },
});
