import type { ActiveDefinition } from '../core/model.js';
import type { Logger } from '../core/ports.js';
import type { FileResult } from './deploy.js';

/** One workflow's state on this node: whether the version its file builds here is the active one. */
export interface WorkflowDrift {
  workflow: string;
  /** True while another version than this node's own build is active (`autoflow_workflow_version_drift`). */
  drifting: boolean;
}

/** When a drift was found: right after this node's deploy (`deploy`), or on following another node's (`sync`). */
export type DriftCheck = 'deploy' | 'sync';

/**
 * Whether the workflow versions this node's own folder builds are the active ones. The node that deploys last makes
 * its version active (an intentional revert must be able to win), so nodes with different workflow files (a rolling
 * deploy in progress, an old node restarted in the middle of one) take turns at what every node starts new runs on;
 * this is what makes that visible: a warning at each change of the active version, and a gauge for alerting.
 */
export class VersionDrift {
  /** Workflow name → the version this node's folder built at its latest deploy. */
  private own = new Map<string, { version: string; file: string }>();
  /** Workflow name → the active version this node warned of (once per change of it). */
  private warned = new Map<string, string>();

  constructor(private readonly logger: Logger) {}

  /** After a deploy of this node's folder: the versions its files build (a file that failed to build builds none). */
  built(results: readonly FileResult[]): void {
    this.own = new Map(
      results.flatMap((result) =>
        result.definition ? [[result.definition.name, { version: result.definition.version, file: result.file }] as const] : [],
      ),
    );
  }

  /**
   * Compares the active versions (as this node just read them) with its own builds: warns of each workflow whose active
   * version is another one, once per change of it, and says when one is back to this node's version.
   */
  check(active: readonly ActiveDefinition[], when: DriftCheck): void {
    const byName = new Map(active.map((definition) => [definition.name, definition]));
    for (const [workflow, own] of this.own) {
      const current = byName.get(workflow);
      const warned = this.warned.get(workflow);
      if (current === undefined || current.version === own.version) {
        if (warned !== undefined) {
          this.warned.delete(workflow);
          if (current !== undefined) {
            this.logger.info(
              { workflow, version: short(own.version) },
              `workflow ${workflow}: the active version is again ${short(own.version)}, the one this node's workflow files build`,
            );
          }
        }
        continue;
      }
      if (warned === current.version) continue;
      this.warned.set(workflow, current.version);
      this.logger.warn(
        {
          workflow,
          activeVersion: short(current.version),
          ...(current.activatedBy === undefined ? {} : { activatedBy: current.activatedBy }),
          ...(current.activatedAt === undefined ? {} : { activatedAt: new Date(current.activatedAt).toISOString() }),
          ownVersion: short(own.version),
          file: own.file,
        },
        driftMessage(workflow, current, own, when),
      );
    }
    for (const workflow of this.warned.keys()) if (!this.own.has(workflow)) this.warned.delete(workflow);
  }

  /** Every workflow this node's folder builds, drifting or not: the gauge's series. */
  state(active: readonly ActiveDefinition[]): WorkflowDrift[] {
    const byName = new Map(active.map((definition) => [definition.name, definition.version]));
    return [...this.own].map(([workflow, own]) => {
      const current = byName.get(workflow);
      return { workflow, drifting: current !== undefined && current !== own.version };
    });
  }
}

function short(version: string): string {
  return version.slice(0, 12);
}

/** The warning: what is active, what this node builds, what it means and what to do. */
function driftMessage(workflow: string, active: ActiveDefinition, own: { version: string; file: string }, when: DriftCheck): string {
  const by = active.activatedBy === undefined ? 'another node' : `node ${active.activatedBy}`;
  const at = active.activatedAt === undefined ? '' : ` at ${new Date(active.activatedAt).toISOString()}`;
  const what =
    when === 'deploy'
      ? `workflow ${workflow}: this node deployed version ${short(own.version)} from ${own.file}, but ${by} deployed version ${short(active.version)} right after${at} (nodes starting at the same moment with different files: the last deploy wins)`
      : `workflow ${workflow}: ${by} made version ${short(active.version)} active${at}, but this node's ${own.file} builds version ${short(own.version)}`;
  return (
    `${what}. The nodes run different workflow files: a rolling deploy is in progress, or a node with older files restarted ` +
    `and made its version active again. New runs of ${workflow} start on ${short(active.version)}, on every node. ` +
    'Give every node the same workflow files (the same image), then restart this node, or the odd one out, once they ' +
    'have them: the node that deploys last makes its version active'
  );
}
