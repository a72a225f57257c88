import { createHash } from 'node:crypto';
import { listenLoopback, type LoopbackServer } from './http-server.js';
import type { KubernetesStandIn } from './kubernetes-api.js';

/**
 * Flux's notification-controller serving one `Receiver` of type `gitlab`, for tests: it listens on
 * `/hook/<sha256(token + name + namespace)>` (the path Flux publishes in the Receiver's
 * `status.webhookPath`), checks `X-Gitlab-Token` against the Receiver's secret token and
 * `X-Gitlab-Event` against `spec.events`, and then requests a reconcile of each resource — by
 * setting `reconcile.fluxcd.io/requestedAt` on it in the Kubernetes stand-in, as the real
 * controller does through the API server.
 */
export interface FluxReceiverOptions {
  kubernetes: KubernetesStandIn;
  /** The Receiver's name and namespace (they are part of its webhook path). */
  name: string;
  namespace: string;
  /** The token in the Receiver's secret. */
  token: string;
  /** `spec.events`: accepted `X-Gitlab-Event` values. @default ['Push Hook', 'Tag Push Hook'] */
  events?: string[];
  /** `spec.resources`. */
  resources: Array<{ kind: string; name: string; namespace?: string }>;
}

export interface ReceivedHook {
  event: string | undefined;
  body: unknown;
  accepted: boolean;
}

export class FluxReceiverStandIn {
  private server: LoopbackServer | undefined;
  /** Every request that reached the webhook path, accepted or not. */
  readonly received: ReceivedHook[] = [];

  constructor(private readonly options: FluxReceiverOptions) {}

  /** `status.webhookPath` of the Receiver. */
  get webhookPath(): string {
    const { token, name, namespace } = this.options;
    return `/hook/${createHash('sha256')
      .update(token + name + namespace)
      .digest('hex')}`;
  }

  /** The URL a workflow posts to. */
  get url(): string {
    if (!this.server) throw new Error('call listen() first');
    return `${this.server.url}${this.webhookPath}`;
  }

  async listen(): Promise<string> {
    const events = this.options.events ?? ['Push Hook', 'Tag Push Hook'];
    this.server = await listenLoopback((request) => {
      if (request.url.pathname !== this.webhookPath) return { status: 404, body: 'not found' };
      if (request.method !== 'POST') return { status: 405, body: 'method not allowed' };
      let body: unknown;
      try {
        body = JSON.parse(request.body);
      } catch {
        body = request.body;
      }
      const event = request.headers['x-gitlab-event'] as string | undefined;
      const tokenOk = request.headers['x-gitlab-token'] === this.options.token;
      const eventOk = event !== undefined && events.includes(event);
      this.received.push({ event, body, accepted: tokenOk && eventOk });
      // The controller answers 400 for a bad token and ignores (200) events it was not told to handle.
      if (!tokenOk) return { status: 400, body: 'unable to validate payload' };
      if (!eventOk) return { status: 200, body: '' };
      for (const resource of this.options.resources) {
        this.options.kubernetes.requestReconcile(resource.kind, resource.namespace ?? this.options.namespace, resource.name);
      }
      return { status: 200, body: '' };
    });
    return this.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}

export async function createFluxReceiverStandIn(options: FluxReceiverOptions): Promise<FluxReceiverStandIn> {
  const receiver = new FluxReceiverStandIn(options);
  await receiver.listen();
  return receiver;
}
