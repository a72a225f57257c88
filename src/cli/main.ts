// The entry point behind bin/autoflow.js: the only file that touches the process itself.
import { readFileSync } from 'node:fs';
import { runCli } from './program.js';

// A write to stdout that failed (a full disk, a closed descriptor) fails the command: a script that saves its output
// must not get an empty file and success. A reader that went away (`| head`) is no failure.
let lostOutput: NodeJS.ErrnoException | undefined;
const noteFailedWrite = (error: NodeJS.ErrnoException | null | undefined): void => {
  if (error && error.code !== 'EPIPE') lostOutput ??= error;
};
// Handled, so that a failed write is not an uncaught 'error' event; the writes' callbacks say which failed.
process.stdout.on('error', noteFailedWrite);

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`, noteFailedWrite),
  err: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => readFileSync(0),
});
// Exit explicitly once the output is flushed: an idle keep-alive socket or a timer left by a
// library must not keep a finished command (or a stopped server) alive.
process.stdout.write('', (error) => {
  noteFailedWrite(error);
  if (lostOutput)
    process.stderr.write(`error: writing the output failed (${lostOutput.code ?? lostOutput.message}): what was printed is lost\n`);
  const exitCode = lostOutput && code === 0 ? 1 : code;
  process.stderr.write('', () => process.exit(exitCode));
});
