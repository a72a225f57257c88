import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startupNotes } from './server.js';

const base = {
  port: 8080,
  publicUrl: 'http://localhost:8080',
  publicUrlConfigured: false,
  simulator: false,
  allowRemoteSimulatorSignIn: false,
};

test('on loopback the banner gives the address, and warns of nothing', () => {
  assert.deepEqual(startupNotes({ ...base, host: '127.0.0.1', simulator: true }), {
    webUi: "Web UI: http://localhost:8080/ (sign in with the simulator's user picker)",
    warnings: [],
  });
});

test('on every interface without --public-url the banner says the address works here only, and a warning says what to set', () => {
  const notes = startupNotes({ ...base, host: '0.0.0.0' });
  assert.equal(notes.webUi, 'Web UI: http://localhost:8080/ (sign in with GitLab) — on this machine only (see the warning below)');
  assert.equal(notes.warnings.length, 1);
  assert.match(
    notes.warnings[0]!,
    /^WARNING: listening on 0\.0\.0\.0 without --public-url: .* works only on this machine\. .*--public-url http:\/\/<the name people use>:8080/,
  );
  assert.deepEqual(
    startupNotes({ ...base, host: '0.0.0.0', publicUrl: 'https://autoflow.example', publicUrlConfigured: true }).warnings,
    [],
  );
});

test("the simulator's password-less sign-in beyond loopback: refused to others by default, a loud warning when allowed", () => {
  const refused = startupNotes({ ...base, host: '192.0.2.7', publicUrl: 'http://192.0.2.7:8080', simulator: true });
  assert.deepEqual(refused.warnings, [
    "The simulator's sign-in needs no password, so it is refused to other machines than this one; --allow-remote-simulator-sign-in allows it (trusted networks only).",
  ]);
  const allowed = startupNotes({
    ...base,
    host: '192.0.2.7',
    publicUrl: 'http://192.0.2.7:8080',
    simulator: true,
    allowRemoteSimulatorSignIn: true,
  });
  assert.match(
    allowed.warnings[0]!,
    /^WARNING: --allow-remote-simulator-sign-in: anyone who can reach this server can sign in as any simulator user/,
  );
});
