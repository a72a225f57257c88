/**
 * The patch markers AutoFlow's own SDK helpers record (src/sdk), so that runs started before a change of a helper
 * replay as they ran. They ask nothing of a workflow's author, and the readable histories say so beside them: an
 * author who never called `patched()` would otherwise wonder where they came from.
 */
/**
 * Marks runs whose group assignees leave out the bot (sdk/tasks.ts): runs that opened their tasks before it replay
 * without the `users.current` call, as they ran.
 */
export const TASK_GROUPS_WITHOUT_BOT_PATCH = 'tasks-groups-without-bot';
/** Recorded where a task's `result()` asked for after `cancel()` answers with the cancel's outcome, without a wait. */
export const TASK_CANCEL_ENDS_RESULT_PATCH = 'tasks-cancel-ends-result';
/** The prefix of the built-in markers recorded since the two above. */
export const BUILT_IN_PATCH_PREFIX = 'autoflow.';

export function isBuiltInPatch(patchId: string): boolean {
  return (
    patchId.startsWith(BUILT_IN_PATCH_PREFIX) || patchId === TASK_GROUPS_WITHOUT_BOT_PATCH || patchId === TASK_CANCEL_ENDS_RESULT_PATCH
  );
}

/** What a readable history adds after a built-in marker's id. */
export const BUILT_IN_PATCH_NOTE = "(AutoFlow's own, for runs that began before a change of its helpers; nothing to do)";
