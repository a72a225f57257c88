import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/autoflow.js', import.meta.url));

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node bin/autoflow.js …` as a user runs it, in a child process. Asynchronous, so that a server
 * living in the test's own process keeps answering while the command runs.
 */
export function autoflow(
  args: readonly string[],
  /** `stdoutFd`: a file descriptor the command writes its output to, instead of a pipe the outcome reads. `stdin`: what it reads. */
  options: { cwd: string; env?: Record<string, string>; stdoutFd?: number; stdin?: string },
): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', options.stdoutFd ?? 'pipe', 'pipe'],
    });
    child.stdin?.end(options.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
