import { callCapability } from '../sdk/capabilities.js';
import { now, sleep } from '../sdk/durable.js';
import { toMilliseconds, type Duration } from '../sdk/duration.js';
import { CancelledError } from '../sdk/errors.js';
import { gitlab } from '../sdk/gitlab.js';
import { commitOf, fluxVerdict, getKustomization, listEvents, requestReconcile, type KubeEvent } from './flux.js';
import type { FluxObjectRef } from './gitops-options.js';

/**
 * Where a release runs. Users plug in their own (Argo Rollouts, a service mesh's weights, a
 * cloud's deployment API…); `fluxGitTarget` is one over GitOps: it commits the desired state and
 * waits for Flux to apply it.
 */
export interface DeploymentTarget {
  /** The environment's name (`staging`, `production`). */
  readonly name: string;
  /**
   * What runs now: a version and the percent of traffic it takes (the rest runs what ran before
   * it), or undefined when unknown. Before a deploy this is what a rollback puts back — exactly,
   * weight included: a version left at a partial weight (a rollout that did not finish) was never
   * proven on all traffic, so it must not become the version a rollback sends everything to.
   */
  deployed(): Promise<DeployedVersion | undefined>;
  /**
   * Sends `weight` percent of traffic to `version` (100: everything) and returns once it is applied.
   * Throws when it is not: the platform reported a failure, or it took too long. The environment may
   * then run the change in part, so the caller must decide what runs there (a rollback, usually).
   */
  deploy(version: string, weight: number): Promise<void>;
  /** Puts back what `deployed()` answered before (usually a version on all traffic); throws as `deploy` does. */
  rollback(to: DeployedVersion): Promise<void>;
  /** Events and logs that help explain a failure; best-effort: what could not be read is named in `unavailable`. */
  diagnostics(): Promise<Diagnostics>;
}

/** A version and the percent of traffic it takes (100: all of it). */
export interface DeployedVersion {
  version: string;
  weight: number;
}

export interface Diagnostics {
  events: KubeEvent[];
  logs: Array<{ pod: string; text: string }>;
  /** The sources that could not be read, and why (no RBAC for pods, the API down…): an incident says so and goes on. */
  unavailable: string[];
}

export interface FluxGitTargetOptions {
  name: string;
  /** The manifests project and the file the target writes (`environments/production/release.yaml`). */
  project: string;
  branch?: string;
  file: string;
  /** The source to reconcile after a commit. */
  source: FluxObjectRef;
  kustomization: { namespace: string; name: string };
  /** Where the application's pods run, for diagnostics. */
  pods?: { namespace: string; labelSelector: string };
  /** @default '10m' */
  timeout?: Duration;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `version: x` / `weight: n` lines of the release file. */
export function parseRelease(text: string): { version?: string; weight?: number } {
  const version = /^version:\s*"?([^"\n]+)"?\s*$/m.exec(text)?.[1];
  const weight = /^weight:\s*(\d+)\s*$/m.exec(text)?.[1];
  return { ...(version === undefined ? {} : { version }), ...(weight === undefined ? {} : { weight: Number(weight) }) };
}

/**
 * A target whose desired state is a small file in a manifests repository (the version and its
 * traffic weight, read by the manifests' own templating or a Flagger/mesh configuration): each
 * change is a commit, Flux is asked to reconcile, and the change counts as done when the
 * Kustomization is Ready at that commit — or at a later one that still has this file as written,
 * since Flux fetches the branch's head (another environment's rollout may commit meanwhile).
 * A Ready=False there, or no Ready within `timeout`, throws.
 */
export function fluxGitTarget(options: FluxGitTargetOptions): DeploymentTarget {
  const branch = options.branch ?? 'main';
  const { namespace, name } = options.kustomization;
  const timeout = options.timeout ?? '10m';

  /** Whether the file at `revision` is `content`: a later commit then carries our change. */
  const carries = async (revision: string, content: string): Promise<boolean> => {
    const sha = commitOf(revision);
    return sha !== undefined && (await gitlab.repositoryFiles.getRaw(options.project, options.file, sha)) === content;
  };

  async function apply(version: string, weight: number, message: string): Promise<void> {
    const content = `# Written by AutoFlow: the release this environment runs.\nversion: "${version}"\nweight: ${weight}\n`;
    const before = await getKustomization(namespace, name);
    await gitlab.repositoryFiles.update(options.project, options.file, { branch, content, commit_message: message });
    const head = await gitlab.request<{ commit: { id: string } }>(
      'GET',
      `/projects/${encodeURIComponent(options.project)}/repository/branches/${encodeURIComponent(branch)}`,
    );
    await requestReconcile(options.source);
    const deadline = now().getTime() + toMilliseconds(timeout);
    const failed = (detail: string) => new Error(`${options.name}: Flux failed to apply ${version} at ${weight}%: ${detail}`);
    let checked: { revision: string; carries: boolean } | undefined;
    for (;;) {
      const verdict = fluxVerdict(await getKustomization(namespace, name), head.commit.id, before);
      if (verdict.state === 'ready') return;
      if (verdict.state === 'failed') throw failed(`${verdict.reason}: ${verdict.message}`);
      if (verdict.state === 'elsewhere') {
        if (checked?.revision !== verdict.revision)
          checked = { revision: verdict.revision, carries: await carries(verdict.revision, content) };
        if (checked.carries && verdict.ready) return;
        if (checked.carries) throw failed(`${verdict.revision}: ${verdict.message}`);
      }
      if (now().getTime() >= deadline)
        throw new Error(`${options.name}: ${version} at ${weight}% was not applied within ${String(timeout)} (${verdict.message})`);
      await sleep('15s');
    }
  }
  return {
    name: options.name,
    async deployed() {
      const { version, weight } = parseRelease(await gitlab.repositoryFiles.getRaw(options.project, options.file, branch));
      // A file without a weight line (written by hand) means its version on all traffic.
      return version === undefined ? undefined : { version, weight: weight ?? 100 };
    },
    deploy: (version, weight) => apply(version, weight, `${options.name}: ${version} at ${weight}%`),
    rollback: ({ version, weight }) =>
      apply(version, weight, `${options.name}: roll back to ${version}${weight === 100 ? '' : ` at ${weight}%`}`),
    async diagnostics() {
      // Diagnostics explain a failure; they must never be one: each source that fails is named instead.
      const unavailable: string[] = [];
      const read = async <T>(what: string, fallback: T, reading: () => Promise<T>): Promise<T> => {
        try {
          return await reading();
        } catch (error) {
          if (error instanceof CancelledError) throw error;
          unavailable.push(`${what}: ${messageOf(error)}`);
          return fallback;
        }
      };
      const { namespace: fluxNamespace, name: kustomizationName } = options.kustomization;
      const events = await read(`events of Kustomization ${fluxNamespace}/${kustomizationName}`, [], () =>
        listEvents(fluxNamespace, { kind: 'Kustomization', name: kustomizationName }, 10),
      );
      const logs: Diagnostics['logs'] = [];
      if (options.pods) {
        const { namespace, labelSelector } = options.pods;
        events.push(...(await read(`events in ${namespace}`, [], () => listEvents(namespace, undefined, 10))));
        const pods = await read(`pods in ${namespace}`, [], () =>
          callCapability<Array<{ name: string }>>('kubernetes', 'listPods', { namespace, labelSelector }),
        );
        for (const pod of pods.slice(0, 3)) {
          const text = await read(`logs of ${namespace}/${pod.name}`, undefined, () =>
            callCapability<string>('kubernetes', 'podLogs', { namespace, name: pod.name, tailLines: 50 }),
          );
          if (text !== undefined) logs.push({ pod: pod.name, text });
        }
      }
      return { events, logs, unavailable };
    },
  };
}
