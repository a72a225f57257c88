/**
 * `autoflow/blocks`: reusable workflow code from the built-in library. Blocks run inside the
 * sandbox like any workflow code: they import only the SDK and core types, and reach the world
 * through capabilities (see docs/gitops.md).
 */
export { gitopsGate } from './gitops-gate.js';
export type { GateResult, GateStatus, PushPayload } from './gitops-gate.js';
export type { ApprovalRule, FluxObjectRef, GateEnvironment, GitopsGateOptions, SyncTrigger } from './gitops-options.js';
export { fluxVerdict, getKustomization, listEvents, requestReconcile, revisionMatches, triggerSync } from './flux.js';
export type { FluxVerdict, KubeCondition, KubeEvent, KustomizationObject } from './flux.js';
export { awaitPipeline, branchWatch, tagWatch, verdictOf } from './gitops-pipeline.js';
export type { PipelineOutcome, RefWatch } from './gitops-pipeline.js';
export { baselineGaps, checkHealth, meanAndDeviation, prometheusMetric, readBaselines, watchHealth, zScore } from './metrics.js';
export type { Baselines, Finding, Health, MetricCheck, MetricSource, PrometheusMetricOptions } from './metrics.js';
export { fluxGitTarget, parseRelease } from './targets.js';
export type { DeployedVersion, DeploymentTarget, Diagnostics, FluxGitTargetOptions } from './targets.js';
export { diagnosticsPrompt, incidentAdvice } from './advice.js';
export type { AdviceOptions } from './advice.js';
export { Wakeups } from './wakeups.js';
export { triage } from './triage.js';
export type { TriageInput, TriageOptions, TriageReport, TriageRuleReport } from './triage.js';
