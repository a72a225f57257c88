import { normaliseUsername } from '../core/human-task-rules.js';
import { log } from '../sdk/log.js';
import { tasks } from '../sdk/tasks.js';
import type { ApprovalRule, GateEnvironment } from './gitops-options.js';
import { readWhileWaiting, type RefWatch } from './gitops-pipeline.js';
import type { Reporter } from './gitops-report.js';
import type { Wakeups } from './wakeups.js';

/** A GitLab deploy freeze, as the `calendar` capability reads it. */
export interface FreezeStatus {
  frozen: boolean;
  endsAt: string | null;
}

/**
 * Whether the gate may sync an environment now. `failed`: no one can clear it as configured (the
 * approval cannot even be asked for), reported as any failure; `supersededBy`: the newer commit.
 */
export type Clearance = { go: true } | { go: false; status: 'rejected' | 'superseded' | 'failed'; detail: string; supersededBy?: string };

/** What asking for an approval needs of the gate. */
export interface ApprovalAsk {
  project: string;
  sha: string;
  ref: string;
  /** Who pushed the commit: the approval's initiator, who may not approve it unless `allowSelfApproval`. */
  pusher: string | undefined;
  report: Reporter;
  watch: RefWatch;
  wakeups: Wakeups;
}

const short = (sha: string): string => sha.slice(0, 8);

/**
 * Why an approval cannot be opened, for the commit status and the issue. `tasks.openApproval`
 * refuses one that could never pass — its quorum message (core/human-task-rules.ts) names the
 * initiator when leaving the initiator out is what emptied the list — and one whose groups have
 * nobody but the bot.
 */
function unapprovable(error: Error, env: GateEnvironment, rule: ApprovalRule, pusher: string | undefined): string {
  const fix = 'list more approvers (users or a group), lower required, or set allowSelfApproval: true';
  if (pusher !== undefined && error.message.includes(`may approve: nobody (not the initiator @${normaliseUsername(pusher)})`)) {
    return `nobody but the pusher @${pusher} may approve the deploy to ${env.name} (approvers: ${rule.approvers.join(', ')}), and nobody may approve their own push: ${fix}`;
  }
  return `no approval for ${env.name} can be asked for: ${error.message.replace(/^tasks\.approval\(\): /, '')}`;
}

/**
 * Opens an approval for syncing `env` and waits for it, unless a newer commit supersedes this one
 * first (the approval is then cancelled). An approval that cannot be opened — nobody but the
 * pusher may approve — is a `failed` clearance with the reason, not a crash of the run.
 */
export async function askApproval(ask: ApprovalAsk, env: GateEnvironment, rule: ApprovalRule, freeze: FreezeStatus): Promise<Clearance> {
  const { project, sha, ref, pusher } = ask;
  let task: Awaited<ReturnType<typeof tasks.openApproval>>;
  try {
    task = await tasks.openApproval({
      title: `Deploy ${short(sha)} of ${project} to ${env.name}`,
      description: [
        `The pipeline of ${sha} (${ref}) passed. Approve to let Flux sync **${env.name}**.`,
        ...(freeze.frozen ? [`A GitLab deploy freeze is in force until ${freeze.endsAt ?? 'further notice'}.`] : []),
      ].join('\n\n'),
      approvers: rule.approvers,
      ...(rule.required === undefined ? {} : { required: rule.required }),
      ...(rule.allowSelfApproval === undefined ? {} : { allowSelfApproval: rule.allowSelfApproval }),
      ...(pusher ? { initiator: pusher } : {}),
      timeout: rule.timeout ?? '1d',
      context: { project },
    });
  } catch (error) {
    // The SDK refuses an approval nobody could give with a TypeError (thrown in the sandbox, before any task exists).
    if (!(error instanceof TypeError)) throw error;
    const detail = unapprovable(error, env, rule, pusher);
    log.error(`${env.name}: ${detail}`);
    return { go: false, status: 'failed', detail };
  }
  await ask.report.status(env.name, 'pending', freeze.frozen ? 'deploy freeze: waiting for approval' : 'waiting for approval', task.url);
  log.info(`${env.name}: waiting for approval${freeze.frozen ? ' during the deploy freeze' : ''} at ${task.url}`);
  for (;;) {
    const woke = await ask.wakeups.next({ ...ask.watch.sources() }, { decision: task.result() });
    if (woke.key === 'decision') {
      const outcome = woke.value as Awaited<ReturnType<typeof task.result>>;
      const by = outcome.decisions.filter((decision) => decision.decision === (outcome.status === 'approved' ? 'approve' : 'reject'));
      const names = by.map((decision) => `@${decision.by}`).join(', ');
      log.info(`${env.name}: approval ${outcome.status.replace('_', ' ')}${names ? ` by ${names}` : ''}`);
      if (outcome.status === 'approved') return { go: true };
      const detail =
        outcome.status === 'rejected' ? `rejected${names ? ` by ${names}` : ''}` : `approval ${outcome.status.replace('_', ' ')}`;
      return { go: false, status: 'rejected', detail };
    }
    const newer = await readWhileWaiting(`reading the head of ${ref}`, (call) => ask.watch.newer(woke, call));
    if (newer !== undefined) {
      await task.cancel();
      return { go: false, status: 'superseded', detail: `superseded by ${short(newer)}`, supersededBy: newer };
    }
  }
}
