import { randomBytes } from 'node:crypto';
import { createGitLabCapability } from '../capabilities/gitlab/index.js';
import type { Capability, Clock } from '../core/ports.js';
import type { WebhookSource } from '../gitlab/webhook-auth.js';
import { createGitLabSimulator, demoSeed, type GitLabSimulator, type OAuthApplication } from './gitlab-sim/index.js';

/** Where `autoflow server` mounts the simulator on its own port. */
export const SIMULATOR_PATH = '/simulator/gitlab';
export const BOT_USERNAME = 'autoflow-bot';

export interface EmbeddedGitLab {
  simulator: GitLabSimulator;
  /** The source its webhooks authenticate as, with a secret made for this process. */
  webhookSource: WebhookSource;
  /** The `gitlab` capability, acting as the bot user (a maintainer of the demo group), in process. */
  capability: Capability;
  /** The simulator's REST base once attached (`<server>/simulator/gitlab`). */
  baseUrl(): string;
  /**
   * Points the simulator's links and its group webhook at the server, once the server listens, and
   * registers the web UI's OAuth application (redirect `<publicUrl ?? serverUrl>/auth/callback`).
   */
  attach(serverUrl: string, publicUrl?: string): void;
  /** The web UI's OAuth application in the simulator, once attached. */
  oauthApplication(): OAuthApplication | undefined;
}

/**
 * The GitLab a newcomer gets when none is configured: the simulator with the demo seed, a bot
 * user for workflows, and a group webhook to the server's own `/webhooks/gitlab`.
 */
export function createEmbeddedGitLab(options: { clock?: Clock } = {}): EmbeddedGitLab {
  const token = `sim-${randomBytes(18).toString('base64url')}`;
  const secret = randomBytes(24).toString('base64url');
  const simulator = createGitLabSimulator({ seed: demoSeed(), ...(options.clock ? { clock: options.clock } : {}) });
  simulator.seed({ users: [{ username: BOT_USERNAME, name: 'AutoFlow Bot' }], tokens: { [BOT_USERNAME]: token } });
  simulator.actions.setMember('root', { group: 'demo' }, BOT_USERNAME, 'maintainer');
  let application: OAuthApplication | undefined;
  return {
    simulator,
    webhookSource: { name: 'simulator', secret, builtIn: true },
    // In process: calls reach the simulator without a socket; its links use the attached URL.
    capability: createGitLabCapability({ baseUrl: 'http://gitlab.simulator', token, fetch: simulator.fetch }),
    baseUrl: () => simulator.state.baseUrl,
    attach(serverUrl, publicUrl) {
      const browserUrl = (publicUrl ?? serverUrl).replace(/\/+$/, '');
      simulator.state.baseUrl = `${browserUrl}${SIMULATOR_PATH}`;
      simulator.webhooks.add({ url: `${serverUrl}/webhooks/gitlab`, token: secret, group: 'demo' });
      application = simulator.oauth.registerApplication({ name: 'AutoFlow', redirectUri: `${browserUrl}/auth/callback` });
    },
    oauthApplication: () => application,
  };
}
