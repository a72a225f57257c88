// A reference, not an import: the file only declares a module pattern, and there is nothing to load at run time.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./policy-files.d.ts" />
/**
 * 'autoflow': the module workflow code imports. It runs inside the sandbox, where every side
 * effect leaves as a durable command; see ARCHITECTURE.md beside this file.
 */
export { workflow } from './workflow.js';
export {
  SIGNAL_EVENT_PREFIX,
  continueAsNew,
  deprecatePatch,
  executeChild,
  now,
  patched,
  race,
  runInfo,
  signal,
  sleep,
  startChild,
  uuid4,
  waitFor,
} from './durable.js';
export type { EventOf, RaceResult } from './durable.js';
export { activities, callCapability, emit, http, secrets, sendSignal } from './capabilities.js';
export type { Activities } from './capabilities.js';
export { gitlab, gitlabError } from './gitlab.js';
export type { AllPagesOptions, CommitStatusList, GitLabErrorDetails, ItemList, List, PageOptions } from './gitlab.js';
export type * from './gitlab-types.js';
export { log } from './log.js';
export { tasks } from './tasks.js';
export { calendar } from './calendar.js';
export type * from './tasks.js';
export { CancelledError, NondeterministicApiError, RemoteError } from './errors.js';
export type * from './types.js';
export type * from './triage-policy.js';
