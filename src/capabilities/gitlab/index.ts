export { GITLAB_METHODS, createGitLabCapability } from './capability.js';
export type { GitLabCapabilityOptions } from './capability.js';
export { GitLabError, GitLabUnavailableError } from './errors.js';
export { checkGitLabAtStartup } from './startup-check.js';
export type { GitLabStartupCheck, GitLabStartupCheckOptions } from './startup-check.js';
