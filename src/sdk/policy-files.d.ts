// What `import policies from './.triage-policies.yml'` (any .yml or .yaml file) gives a workflow: the bundler reads, checks and
// normalizes the file on the host (src/sandbox/triage-policy-file.ts), so the sandbox receives plain data.
// The types are imported inline: a top-level import would make this file a module, where a wildcard module
// declaration is not allowed.
/* eslint-disable @typescript-eslint/consistent-type-imports */
declare module '*.yml' {
  const policies: import('./triage-policy.js').TriagePolicies;
  export default policies;
}
declare module '*.yaml' {
  const policies: import('./triage-policy.js').TriagePolicies;
  export default policies;
}
