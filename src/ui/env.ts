import type { Context } from 'hono';
import type { Operations } from '../app/operations.js';
import type { Logger } from '../core/ports.js';
import type { Session } from './auth/session.js';

/** The GitLab people sign in with: an OAuth application registered there (scope `read_user`). */
export interface SignInProvider {
  /** GitLab as the browser reaches it (`https://gitlab.example.com`): the authorize page lives there. */
  gitlabUrl: string;
  /** GitLab as this server reaches it, for the token and user endpoints. @default gitlabUrl */
  serverUrl?: string;
  clientId: string;
  clientSecret: string;
  /** How this server calls GitLab (the embedded simulator: in process). @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface UiOptions {
  operations: Operations;
  logger: Logger;
  /** Signs the session cookies (at least 32 characters). */
  sessionSecret: string;
  /** Address people use to reach the server; the OAuth redirect and the Origin check derive from it. @default the request's own */
  publicUrl?: string;
  /**
   * The GitLab to sign in with; read at each sign-in, because the embedded simulator registers its
   * application only once the server listens. Undefined: the sign-in page says what to configure.
   */
  signIn: () => SignInProvider | undefined;
  /**
   * Why this request may not sign in, said to the person; undefined: it may. The built-in
   * simulator signs in without a password, so the server refuses it to other machines.
   * @default every request may
   */
  signInRefusal?: (c: Context<UiEnv>) => string | undefined;
  /**
   * Why the person GitLab signed in may not use the UI (`uiUsers`), said to them; undefined: they may.
   * @default everyone GitLab signs in may
   */
  userRefusal?: (user: { username: string; id?: number | undefined }) => Promise<string | undefined>;
  /** GitLab's web address for links to issues and merge requests. */
  gitlabWebUrl?: () => string | undefined;
  /** @default Date.now */
  now?: () => number;
}

export type UiSettings = UiOptions & { now: () => number };

export type UiEnv = { Variables: { session: Session } };
