/**
 * `autoflow/testing`: test workflows without a server, a GitLab or real time. Runner-agnostic
 * (node:test, vitest, jest): nothing here imports a test runner. See docs/testing.md.
 */
export { createTestEnv, TestEnv, mockCapability } from './test-env.js';
export type { TestEnvOptions, MockHandler } from './test-env.js';
export { callsOf } from './calls.js';
export type { RecordedCall } from './calls.js';
export { TestGitLab } from './gitlab.js';
export type { GitLabEntity, TestGitLabActions } from './gitlab.js';
export { createReplayer, replay } from './replay.js';
export type { Divergence, ExportedRun, Replayer, ReplayOptions, ReplayReport } from './replay.js';
export { parseDuration } from './duration.js';
export { demoSeed } from './gitlab-sim/index.js';
export type {
  Fault,
  FaultKind,
  FaultMatch,
  FaultSpec,
  GitLabSimulator,
  GroupSeed,
  IssueChange,
  IssueSeed,
  LabelSeed,
  MergeRequestOpening,
  MilestoneSeed,
  ProjectSeed,
  Ref,
  Role,
  SeedDescription,
  SimActions,
  UserSeed,
} from './gitlab-sim/index.js';
// Stand-ins on loopback for what GitOps workflows talk to: the Kubernetes API serving Flux's
// objects (and behaving as Flux does), a Flux Receiver, Prometheus's HTTP API.
export { createKubernetesStandIn, gitRepository, kustomization, ociRepository, KubernetesStandIn } from './standins/kubernetes-api.js';
export type { ApplyOutcome, KubeObject, KubernetesStandInOptions, PodSeed } from './standins/kubernetes-api.js';
export { createFluxReceiverStandIn, FluxReceiverStandIn } from './standins/flux-receiver.js';
export type { FluxReceiverOptions } from './standins/flux-receiver.js';
export { createPrometheusStandIn, PrometheusStandIn } from './standins/prometheus.js';
export type { PrometheusStandInOptions, Series } from './standins/prometheus.js';
export { listenLoopback } from './standins/http-server.js';
export type { LoopbackServer, StandInRequest, StandInResponse } from './standins/http-server.js';
// The kubernetes capability, to point at a stand-in: createTestEnv({ capabilities: [createKubernetesCapability({ server, token })] }).
export { createKubernetesCapability } from '../capabilities/kubernetes/index.js';
// A mock throws it to fail a call the way a capability does: `retryable: false` fails at once.
export { CapabilityError } from '../core/errors.js';
export type { HistoryEvent, Json, RunRecord } from '../core/model.js';
export type { CapabilityContext } from '../core/ports.js';
