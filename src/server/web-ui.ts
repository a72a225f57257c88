import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { dirname } from 'node:path';
import type { Operations } from '../app/operations.js';
import type { DatabaseConfig } from '../config/database.js';
import type { Logger } from '../core/ports.js';
import type { EmbeddedGitLab } from '../testing/embedded-gitlab.js';
import { isLoopback } from '../ui/auth/loopback.js';
import { loadSessionSecret } from '../ui/auth/secret.js';
import type { SignInProvider, UiEnv, UiOptions } from '../ui/env.js';

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
    signIn = () => provider;
  }
  return {
    operations: input.operations,
    logger: logger.child({ component: 'ui' }),
    sessionSecret: secret,
    ...(config.publicUrl ? { publicUrl: config.publicUrl.replace(/\/+$/, '') } : {}),
    signIn,
    ...(gitlab && !config.allowRemoteSimulatorSignIn ? { signInRefusal: simulatorSignInRefusal } : {}),
    gitlabWebUrl: () => (gitlab ? gitlab.baseUrl() : config.gitlabUrl),
  };
}
