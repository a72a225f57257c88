import type { DeployedDefinition, RunRecord } from '../core/model.js';
import type { DefinitionSummary } from '../core/ports.js';
import type { RunView, WorkflowView } from './operations.js';

export function toRunView(run: RunRecord): RunView {
  const view: RunView = {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    status: run.status,
    input: run.input,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
  };
  if (run.result !== undefined) view.result = run.result;
  if (run.error !== undefined) view.error = run.error;
  if (run.parentId !== undefined) view.parentId = run.parentId;
  return view;
}

export function toWorkflowView(definition: DeployedDefinition, versions: DefinitionSummary[]): WorkflowView {
  const { manifest } = definition;
  const view: WorkflowView = {
    name: definition.name,
    version: definition.version,
    triggers: manifest.triggers,
    permissions: manifest.permissions,
    deployedAt: new Date(definition.deployedAt).toISOString(),
    versions: versions.map((v) => ({ version: v.version, deployedAt: new Date(v.deployedAt).toISOString(), active: v.active })),
  };
  if (manifest.description !== undefined) view.description = manifest.description;
  if (manifest.inputSchema !== undefined) view.inputSchema = manifest.inputSchema;
  if (definition.origin !== undefined) view.origin = definition.origin;
  return view;
}
