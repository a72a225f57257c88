/**
 * GitLab's words for what happened → the verb of AutoFlow's event types, so that types read as past events
 * (`open` → `issue_created`, `success` → `pipeline_succeeded`). Webhooks are normalised with it
 * (gitlab/webhook-kinds.ts), and the warnings about trigger types GitLab never sends read it too
 * (sandbox/gitlab-event-types.ts, which may not import the gitlab layer).
 */
export const GITLAB_VERBS: Readonly<Record<string, string>> = {
  open: 'created',
  create: 'created',
  update: 'updated',
  close: 'closed',
  reopen: 'reopened',
  merge: 'merged',
  delete: 'deleted',
  award: 'awarded',
  revoke: 'revoked',
  success: 'succeeded',
  // GitLab spells it `canceled`; the British spelling is accepted so that both give one type.
  cancelled: 'canceled',
};
