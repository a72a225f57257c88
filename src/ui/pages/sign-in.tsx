/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout, Notice } from './layout.js';

const PROBLEMS = {
  notConfigured:
    'Sign-in is not configured. Register an OAuth application in GitLab (scope read_user, redirect URI <public URL>/auth/callback) and set AUTOFLOW_GITLAB_OAUTH_CLIENT_ID and AUTOFLOW_GITLAB_OAUTH_CLIENT_SECRET.',
  expired: 'The sign-in took too long or was started in another browser. Try again.',
  failed: 'GitLab did not confirm the sign-in. Try again; if it keeps failing, the server log says why.',
} as const;

/**
 * The sign-in page: its button, or why signing in did not work (`problem`, then it may be tried
 * again) or cannot work from here (`refusal`, said in full; no button).
 */
export function signInPage(props: { next?: string; gitlabUrl?: string; problem?: keyof typeof PROBLEMS; refusal?: string }) {
  const href = `/auth/login?go=1&next=${encodeURIComponent(props.next ?? '/')}`;
  return (
    <Layout title="Sign in">
      <section class="sign-in">
        <h1>Sign in</h1>
        {props.problem && <Notice kind="error">{PROBLEMS[props.problem]}</Notice>}
        {props.refusal && <Notice kind="error">{props.refusal}</Notice>}
        {props.problem !== 'notConfigured' && props.refusal === undefined && (
          <p>
            <a class="button primary" href={href}>
              Sign in with GitLab
            </a>
          </p>
        )}
        {props.gitlabUrl && <p class="muted">GitLab: {props.gitlabUrl}</p>}
      </section>
    </Layout>
  );
}

/**
 * A form posted after the session ended: nothing was saved; sign in again and come back. What the
 * post carried (`typed`, name and text) is shown, so that nothing typed is lost on the way.
 */
export function sessionEndedPage(props: { next: string; typed?: Array<[string, string]> }) {
  const typed = props.typed ?? [];
  return (
    <Layout title="Signed out">
      <section class="sign-in">
        <h1>Your session has ended</h1>
        <Notice kind="error">You were signed out (or the session expired), so what you sent was not saved.</Notice>
        <p>
          <a class="button primary" href={`/auth/login?next=${encodeURIComponent(props.next)}`}>
            Sign in again
          </a>
        </p>
        <p class="muted">
          You come back to the page you were on; enter your answer there once more{typed.length > 0 && ' — copy it from below first'}.
        </p>
      </section>
      {typed.length > 0 && (
        <section id="unsaved-answer">
          <h2>What you sent (not saved)</h2>
          <dl class="meta answers">
            {typed.map(([name, text]) => (
              <>
                <dt class="mono">{name}</dt>
                <dd class="multiline">{text}</dd>
              </>
            ))}
          </dl>
        </section>
      )}
    </Layout>
  );
}
