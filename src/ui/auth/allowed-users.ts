/**
 * Who may use the web UI (`uiUsers`): GitLab usernames, and `group:<path>` for the members of a group (direct or
 * inherited, as GitLab counts them). Without a list, everyone the GitLab instance lets sign in may: on a GitLab
 * that anyone can join, that is anyone.
 */

/** What GitLab says of a user and a group: whether the user is a member, directly or through a parent group. */
export type GroupMembership = (group: string, userId: number) => Promise<boolean>;

export interface SignedInUser {
  username: string;
  /** GitLab's numeric id; needed for a group's membership. */
  id?: number | undefined;
}

const USERNAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;
const GROUP_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$/;

/** Why an entry of `uiUsers` is not a username or `group:<path>`, or undefined when it is one. */
export function uiUserEntryProblem(entry: string): string | undefined {
  if (entry.startsWith('group:')) {
    return GROUP_PATH.test(entry.slice('group:'.length))
      ? undefined
      : `'${entry}': a group is group:<full path>, for example group:acme/platform`;
  }
  return USERNAME.test(entry.replace(/^@/, '')) ? undefined : `'${entry}': a GitLab username, or group:<full path>`;
}

/**
 * What a signed-in user is told when `entries` do not let them in; undefined when they do. A group that cannot be
 * checked (GitLab does not answer, the server's token may not read it) refuses, saying so — the list is a guard —
 * and `onCheckFailed` hears why, for the server's log.
 */
export function createUserRefusal(
  entries: readonly string[],
  isMember: GroupMembership,
  onCheckFailed: (group: string, error: unknown) => void,
): (user: SignedInUser) => Promise<string | undefined> {
  const usernames = new Set(entries.filter((entry) => !entry.startsWith('group:')).map((entry) => entry.replace(/^@/, '').toLowerCase()));
  const groups = entries.filter((entry) => entry.startsWith('group:')).map((entry) => entry.slice('group:'.length));
  const who = [...[...usernames].map((name) => `@${name}`), ...groups.map((group) => `the members of ${group}`)].join(', ');
  const refusal = (user: SignedInUser, why = ''): string =>
    `@${user.username} may not use this AutoFlow: it lets in ${who}${why}. ` +
    'Whoever runs the server can add you to uiUsers (AUTOFLOW_UI_USERS).';
  return async (user) => {
    if (usernames.has(user.username.toLowerCase())) return undefined;
    if (groups.length === 0) return refusal(user);
    if (user.id === undefined) return refusal(user, ' (GitLab did not say which user you are, so no group could be checked)');
    const unchecked: string[] = [];
    for (const group of groups) {
      try {
        if (await isMember(group, user.id)) return undefined;
      } catch (error) {
        onCheckFailed(group, error);
        unchecked.push(group);
      }
    }
    return unchecked.length === 0
      ? refusal(user)
      : refusal(user, ` (the membership of ${unchecked.join(', ')} could not be checked with GitLab)`);
  };
}
