import type { Json } from '../core/model.js';
import { getKustomization } from './flux.js';
import type { GateEnvironment } from './gitops-options.js';

/**
 * What the gate needs of the server, checked once the pipeline is green and before anyone is asked
 * to approve or a deployment is created: the gate always observes Flux through the `kubernetes`
 * capability (whatever its sync trigger), so on a server without it every sync would end in a
 * failed `kubernetes.getObject` — after the approvals, with a deployment left `failed`.
 * Deploying the workflow on such a server already warns (app/deploy.ts, `missingCapabilityWarnings`).
 *
 * Returns the problem, or undefined when the first environment's Kustomization can be read. Other
 * failures of that read (403, 404, the API unreachable) are thrown: the run fails with them, and
 * they too come before any approval.
 */
export async function missingKubernetes(environments: readonly GateEnvironment[]): Promise<string | undefined> {
  const first = environments[0];
  if (first === undefined) return undefined;
  const { namespace, name } = first.observe.kustomization;
  try {
    await getKustomization(namespace, name);
    return undefined;
  } catch (error) {
    // Errors cross the sandbox boundary as `{ name, message, details }`: matched by name and code, not class.
    const { name: errorName, details } = error as Error & { details?: Json };
    const code = details !== null && typeof details === 'object' && !Array.isArray(details) ? details['code'] : undefined;
    if (errorName !== 'CapabilityError' || code !== 'unknown_capability') throw error;
    return (
      "no capability named 'kubernetes' is installed on this server: the gate reads Flux's Kustomizations through it, so it " +
      'cannot deploy. Configure it in autoflow.config.ts (kubernetes: { kubeconfig, context }, { server, token, caFile } or ' +
      '{ inCluster: true }; docs/gitops.md, §4); commits pushed after that are gated'
    );
  }
}
