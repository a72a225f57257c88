// The entry point behind bin/autoflow.js: the only file that touches the process itself.
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
// Exit explicitly once the output is flushed: an idle keep-alive socket or a timer left by a
// library must not keep a finished command (or a stopped server) alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
