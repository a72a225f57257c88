/**
 * What a signal may be called: the one definition that the API, the CLI and the test environment
 * (`signalRun`) and the SDK's `signal()` all check against. A name `signal()` accepted but the API
 * refused would park a run for a signal nobody can send. Plain data, free of sandbox globals, so
 * that the host imports it as well as the bundle.
 */
export const SIGNAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What SIGNAL_NAME_PATTERN asks for, in words, for messages. */
export const SIGNAL_NAME_RULE = 'use 1–100 letters, digits and . _ -, starting with a letter or digit';
