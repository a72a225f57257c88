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
// A mock throws it to fail a call the way a capability does: `retryable: false` fails at once.
export { CapabilityError } from '../core/errors.js';
export type { HistoryEvent, Json, RunRecord } from '../core/model.js';
export type { CapabilityContext } from '../core/ports.js';
