import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { dirname } from 'node:path';
import type { Operations } from '../app/operations.js';
import type { DatabaseConfig } from '../config/database.js';
import type { Logger } from '../core/ports.js';
import type { EmbeddedGitLab } from '../testing/embedded-gitlab.js';
import { isLoopback } from '../ui/auth/loopback.js';
import { loadSessionSecret } from '../ui/auth/secret.js';
import { createUserRefusal, type GroupMembership } from '../ui/auth/allowed-users.js';
import type { SignInProvider, UiEnv, UiOptions } from '../ui/env.js';
import { createGitLabClient, type GitLabClient } from '../capabilities/gitlab/client.js';
import { GitLabError } from '../capabilities/gitlab/errors.js';
import { path } from '../capabilities/gitlab/methods/define.js';

/** The settings of the web UI that come from the server's configuration. */
export interface WebUiConfig {
  db: DatabaseConfig;
  publicUrl?: string | undefined;
  gitlabUrl?: string | undefined;
  gitlabOAuthClientId?: string | undefined;
  gitlabOAuthClientSecret?: string | undefined;
  sessionSecret?: string | undefined;
  /**
   * Whether people on other machines may sign in with the built-in simulator, which asks for no
   * password (`--allow-remote-simulator-sign-in`). @default false: only from this machine
   */
  allowRemoteSimulatorSignIn?: boolean | undefined;
  /** Who may use the web UI: usernames and `group:<path>` (see ui/auth/allowed-users.ts). @default everyone GitLab signs in */
  uiUsers?: readonly string[] | undefined;
  /** The server's GitLab token: it reads the members of the groups in `uiUsers`. */
  gitlabToken?: string | undefined;
}

/** Whether GitLab counts user `userId` a member of `group` (directly or through a parent group), asked with the server's token. */
function groupMembership(client: GitLabClient, now: () => number): GroupMembership {
  return async (group, userId) => {
    try {
      await client.send('GET', client.urlOf({ method: 'GET', path: path`/groups/${group}/members/all/${userId}` }), undefined, now());
      return true;
    } catch (error) {
      if (error instanceof GitLabError && error.status === 404) return false;
      throw error;
    }
  };
}

/**
 * The refusal of people not in `uiUsers`; group members are read from the built-in simulator, or from the GitLab the
 * server works with, with its token.
 */
function userRefusalOf(config: WebUiConfig, gitlab: EmbeddedGitLab | undefined, logger: Logger): UiOptions['userRefusal'] {
  const entries = config.uiUsers ?? [];
  const access = gitlab
    ? gitlab.apiAccess
    : config.gitlabUrl && config.gitlabToken
      ? { baseUrl: config.gitlabUrl, token: config.gitlabToken }
      : undefined;
  const client = access && createGitLabClient(access);
  const groups = entries.filter((entry) => entry.startsWith('group:'));
  if (groups.length > 0 && client === undefined)
    logger.warn({ groups }, 'uiUsers names groups, but the server has no GitLab token to read their members: their members are refused');
  const unreadable: GroupMembership = () => Promise.reject(new Error('no GitLab token (AUTOFLOW_GITLAB_TOKEN) to read group members'));
  return createUserRefusal(entries, client ? groupMembership(client, Date.now) : unreadable, (group, error) =>
    logger.warn(
      { err: error, group },
      `the members of ${group} (uiUsers) could not be read from GitLab; the person signing in was refused`,
    ),
  );
}

/** The address the request came from; undefined when it did not come over a socket (in-process tests). */
function clientAddress(c: Context<UiEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * The simulator's user picker signs anyone in as anyone, so by default only a person on this
 * machine may use it. (A proxy on this machine makes every client look local: do not put one in
 * front of a server that runs the simulator.)
 */
export function simulatorSignInRefusal(c: Context<UiEnv>): string | undefined {
  const address = clientAddress(c);
  if (isLoopback(address)) return undefined;
  return (
    `The built-in GitLab simulator signs people in without a password, so this server lets only its own machine sign in with it (you connect from ${address ?? 'an unknown address'}). ` +
    'Whoever runs the server can allow other machines with --allow-remote-simulator-sign-in (on a trusted network only: anyone who reaches it can then act as any user), or connect a real GitLab with --gitlab-url.'
  );
}

/**
 * The UI's options: sign-in with the configured GitLab's OAuth application, or — with the
 * embedded simulator — with the application it registers when the server starts listening.
 */
export function webUiOptions(input: {
  config: WebUiConfig;
  operations: Operations;
  logger: Logger;
  gitlab?: EmbeddedGitLab | undefined;
}): UiOptions {
  const { config, gitlab, logger } = input;
  const dataDir = config.db.kind === 'sqlite' && config.db.path !== ':memory:' ? dirname(config.db.path) : undefined;
  const { secret, source } = loadSessionSecret({ configured: config.sessionSecret, dataDir });
  if (source === 'ephemeral')
    logger.warn({}, 'no AUTOFLOW_SESSION_SECRET and no data folder: web UI sessions end when the server restarts');
  let signIn: () => SignInProvider | undefined;
  if (gitlab) {
    signIn = () => {
      const application = gitlab.oauthApplication();
      return application
        ? {
            gitlabUrl: gitlab.baseUrl(),
            serverUrl: 'http://gitlab.simulator',
            clientId: application.clientId,
            clientSecret: application.clientSecret,
            fetch: gitlab.simulator.fetch,
          }
        : undefined;
    };
  } else {
    const { gitlabUrl, gitlabOAuthClientId: clientId, gitlabOAuthClientSecret: clientSecret } = config;
    const provider = gitlabUrl && clientId && clientSecret ? { gitlabUrl, clientId, clientSecret } : undefined;
    if (!provider)
      logger.warn({}, 'web UI sign-in is off: set AUTOFLOW_GITLAB_OAUTH_CLIENT_ID and AUTOFLOW_GITLAB_OAUTH_CLIENT_SECRET (docs/ui.md)');
    else if (!config.uiUsers?.length)
      logger.warn(
        { gitlabUrl },
        `anyone with an account on ${gitlabUrl} can sign in to the web UI and read every run: set uiUsers (AUTOFLOW_UI_USERS) to the people and groups who may (docs/ui.md)`,
      );
    signIn = () => provider;
  }
  return {
    operations: input.operations,
    logger: logger.child({ component: 'ui' }),
    sessionSecret: secret,
    ...(config.publicUrl ? { publicUrl: config.publicUrl.replace(/\/+$/, '') } : {}),
    signIn,
    ...(gitlab && !config.allowRemoteSimulatorSignIn ? { signInRefusal: simulatorSignInRefusal } : {}),
    ...(config.uiUsers?.length ? { userRefusal: userRefusalOf(config, gitlab, logger) } : {}),
    gitlabWebUrl: () => (gitlab ? gitlab.baseUrl() : config.gitlabUrl),
  };
}
