/** What a command gets from the process: the CLI passes these in so that commands read no globals. */
export interface CliContext {
  /** The process environment (`process.env`); the only place the CLI reads it from. */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Writes a line to standard output: results, for pipes and scripts. */
  out(line: string): void;
  /** Writes a line to standard error: progress and notes for the person at the terminal. */
  err(line: string): void;
  /** All of standard input, as bytes: what a file named `-` holds, decoded as the CLI decodes files (text-file.ts). */
  readStdin(): Uint8Array;
}
