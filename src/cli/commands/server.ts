import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { toError } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';
import { isLoopback } from '../../ui/auth/loopback.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseOptions } from '../options.js';

// Values are checked by loadConfig, whose messages name the flag, the value and the expected form.
const optionsSchema = z.strictObject({
  port: z.string().optional(),
  host: z.string().optional(),
  db: z.string().optional(),
  workflows: z.string().optional(),
  config: z.string().optional(),
  dev: z.boolean().optional(),
  logLevel: z.string().optional(),
  gitlabUrl: z.string().optional(),
  publicUrl: z.string().optional(),
  allowRemoteSimulatorSignIn: z.boolean().optional(),
});

/** What the user must change when the server cannot listen: the port or the host, named as the flag and variable that set them. */
function listenErrorOf(error: Error, config: { host: string; port: number }): Error {
  const code = (error as { code?: unknown }).code;
  const port = `${config.port} (set by --port, AUTOFLOW_PORT or the config file's port)`;
  const host = `${JSON.stringify(config.host)} (set by --host, AUTOFLOW_HOST or the config file's host)`;
  switch (code) {
    case 'EADDRINUSE':
      return new Error(`port ${config.port} on ${config.host} is already in use; stop the other process or choose another with --port`, {
        cause: error,
      });
    case 'EACCES':
      return new Error(`this user may not listen on port ${port}; ports below 1024 need privileges: choose a port from 1024 up`, {
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`cannot listen on host ${host}: no such host name; give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`, {
        cause: error,
      });
    case 'EADDRNOTAVAIL':
      return new Error(
        `cannot listen on host ${host}: it is not an address of this machine; give one of its own, e.g. 127.0.0.1 or 0.0.0.0`,
        { cause: error },
      );
    default:
      return error;
  }
}

/** Hosts that mean "every interface": a server listening there is reached at some other address. */
const WILDCARD_HOSTS = ['0.0.0.0', '::'];

export interface StartupNotes {
  /** The banner's line about the web UI. */
  webUi: string;
  /** What an operator must know before anyone else uses this server. */
  warnings: string[];
}

/**
 * What the start-up banner says about the web UI: its address (only where it works) and the
 * warnings for a server that listens beyond loopback — links and sign-in that would lead to
 * `localhost`, and the simulator's password-less sign-in.
 */
export function startupNotes(input: {
  host: string;
  port: number;
  publicUrl: string;
  publicUrlConfigured: boolean;
  simulator: boolean;
  allowRemoteSimulatorSignIn: boolean;
}): StartupNotes {
  const signIn = input.simulator ? "the simulator's user picker" : 'GitLab';
  const localOnly = WILDCARD_HOSTS.includes(input.host) && !input.publicUrlConfigured;
  const warnings: string[] = [];
  if (localOnly) {
    warnings.push(
      `WARNING: listening on ${input.host} without --public-url: links, the OAuth redirect and sign-in use ${input.publicUrl}, which works only on this machine. ` +
        `For other machines, start with --public-url http://<the name people use>:${input.port} (or AUTOFLOW_PUBLIC_URL).`,
    );
  }
  if (input.simulator && !isLoopback(input.host)) {
    warnings.push(
      input.allowRemoteSimulatorSignIn
        ? 'WARNING: --allow-remote-simulator-sign-in: anyone who can reach this server can sign in as any simulator user, without a password. Use it on a trusted network only.'
        : "The simulator's sign-in needs no password, so it is refused to other machines than this one; --allow-remote-simulator-sign-in allows it (trusted networks only).",
    );
  }
  const where = localOnly ? ' — on this machine only (see the warning below)' : '';
  return { webUi: `Web UI: ${input.publicUrl}/ (sign in with ${signIn})${where}`, warnings };
}

export function registerServer(program: Command, context: CliContext): void {
  program
    .command('server')
    .description('run the engine and the HTTP API (flags beat AUTOFLOW_* variables, which beat autoflow.config.ts)')
    .option('--port <port>', 'HTTP port (env AUTOFLOW_PORT, default 8080)')
    .option('--host <host>', 'interface to listen on (env AUTOFLOW_HOST, default 127.0.0.1)')
    .option('--db <url>', 'sqlite:PATH, memory: or postgres://… (env AUTOFLOW_DB, default sqlite:./data/autoflow.db)')
    .option('--workflows <dir>', 'folder of workflow files (env AUTOFLOW_WORKFLOWS, default ./workflows)')
    .option('--config <file>', 'configuration file (env AUTOFLOW_CONFIG, default ./autoflow.config.ts when present)')
    .option('--dev', 'redeploy workflows whenever their files change (env AUTOFLOW_DEV)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env AUTOFLOW_LOG_LEVEL, default info)')
    .option(
      '--gitlab-url <url>',
      'GitLab instance to work with (env AUTOFLOW_GITLAB_URL; its token from AUTOFLOW_GITLAB_TOKEN); without it the built-in simulator runs',
    )
    .option('--public-url <url>', 'address people use to reach this server, for links and the OAuth redirect (env AUTOFLOW_PUBLIC_URL)')
    .option(
      '--allow-remote-simulator-sign-in',
      'let other machines sign in with the built-in simulator, which asks for no password (env AUTOFLOW_ALLOW_REMOTE_SIMULATOR_SIGN_IN; trusted networks only; default: this machine only)',
    )
    .action(async (raw: unknown) => {
      const flags = parseOptions(optionsSchema, raw);
      // Loaded on demand, as the runtime below: the HTTP app and the web UI take a second to load, which every other
      // command would pay at its start.
      const [{ loadConfig }, { createApp }, { observabilityOf }, { serve }, { webUiOptions }] = await Promise.all([
        import('../../config/index.js'),
        import('../../server/http/app.js'),
        import('../../server/http/observability.js'),
        import('../../server/serve.js'),
        import('../../server/web-ui.js'),
      ]);
      const loaded = await loadConfig({ flags, env: context.env, cwd: context.cwd });
      // The default folder may be created later; a folder named on purpose that is not there is a typo.
      const named =
        flags.workflows !== undefined ? '--workflows' : context.env.AUTOFLOW_WORKFLOWS !== undefined ? 'AUTOFLOW_WORKFLOWS' : undefined;
      if (named !== undefined && !existsSync(loaded.workflowsDir)) {
        throw new UsageError(`workflows folder ${loaded.workflowsDir} (from ${named}) does not exist; create it or fix the path`);
      }
      // Links in tasks and comments must work from a browser: an unspecified listen address means this machine.
      const linkHost = ['0.0.0.0', '::', '127.0.0.1'].includes(loaded.host) ? 'localhost' : loaded.host;
      const config = { ...loaded, publicUrl: loaded.publicUrl ?? `http://${linkHost}:${loaded.port}` };
      // The engine, the store driver and the sandbox, likewise.
      const { createRuntime } = await import('../../app/runtime.js');
      // No GitLab configured: a newcomer gets the simulator, seeded with a demo group, on this server's port;
      // its state is kept beside the database, so the runs and the GitLab they act on survive a restart together.
      const embedded = config.gitlabUrl === undefined ? await import('../../testing/embedded-gitlab.js') : undefined;
      // A database path that cannot be is the store's to report, not the simulator's, whose file goes beside it.
      if (embedded && config.db.kind === 'sqlite' && config.db.path !== ':memory:') {
        (await import('../../store/sqlite/sqlite-store.js')).ensureDatabaseDirectory(config.db.path);
      }
      const gitlab = embedded?.createEmbeddedGitLab({ stateFile: embedded.simulatorStateFile(config.db) });
      const runtime = await createRuntime(
        config,
        gitlab ? { capabilities: [gitlab.capability], webhookSources: [gitlab.webhookSource] } : {},
      );
      // A variable cannot stop the server as a mistyped flag does (it may be another tool's, or a newer AutoFlow's).
      for (const unknown of loaded.unknownVariables) {
        runtime.logger.warn({ variable: unknown.name, ...(unknown.meant !== undefined && { meant: unknown.meant }) }, unknown.message);
      }
      let server: Awaited<ReturnType<typeof serve>>;
      try {
        await runtime.start();
        const ui = webUiOptions({ config, operations: runtime.operations, logger: runtime.logger, gitlab });
        server = await serve(
          createApp({
            operations: runtime.operations,
            logger: runtime.logger,
            observability: observabilityOf(runtime),
            ui,
            ...(gitlab ? { gitlab } : {}),
          }),
          {
            port: config.port,
            host: config.host,
          },
        );
        gitlab?.attach(server.url, config.publicUrl);
      } catch (caught) {
        const error = toError(caught);
        await runtime
          .stop()
          .catch((stopError: unknown) => runtime.logger.error({ err: toError(stopError) }, 'stopping after a failed start failed'));
        throw listenErrorOf(error, config);
      }
      const notes = startupNotes({
        host: config.host,
        port: config.port,
        publicUrl: config.publicUrl,
        publicUrlConfigured: loaded.publicUrl !== undefined,
        simulator: gitlab !== undefined,
        allowRemoteSimulatorSignIn: config.allowRemoteSimulatorSignIn,
      });
      // For the person who started it, on stderr: stdout carries the log, one JSON object a line, for log shippers.
      context.err(`AutoFlow is listening on ${server.url}`);
      // A mistyped --db makes a new, empty database rather than failing: say so where the person who started it looks.
      if (runtime.schema.from === 0 && config.db.kind === 'sqlite' && config.db.path !== ':memory:') {
        context.err(
          `A new, empty database was created at ${config.db.path}; if you meant an existing one, stop the server and check --db.`,
        );
      }
      context.err(notes.webUi);
      for (const warning of notes.warnings) context.err(warning);
      if (gitlab) {
        context.err(`No GitLab configured: the built-in simulator runs at ${gitlab.baseUrl()} with a demo group and project (demo/app).`);
        context.err(
          'Make something happen with `autoflow simulate` (for example: autoflow simulate set-milestone alice demo/app 1 "Sprint 1").',
        );
        context.err(
          gitlab.stateFile === undefined
            ? `The simulator's state is not saved with a ${config.db.kind} database: it starts from the demo data again at every start.`
            : `The simulator's state is ${gitlab.restored ? 'the one saved in' : 'saved in'} ${gitlab.stateFile}; to start again from the demo data, stop the server and delete that file.`,
        );
      }
      if (runtime.newApiToken !== undefined) {
        context.err('');
        context.err(`A new API token was created. It is shown only this once (the server keeps only its hash):`);
        context.err(`  export AUTOFLOW_API_TOKEN=${runtime.newApiToken}`);
        context.err('');
      }
      await shutdownOnSignal(
        async () => {
          gitlab?.simulator.webhooks.stop();
          try {
            await server.close();
            await runtime.stop();
          } finally {
            // Last: the runs stopping may still have changed the simulator. A save that fails (a full disk) loses its
            // last changes only: logged, and the shutdown ends as any other.
            await gitlab?.close().catch((error: unknown) => runtime.logger.error({ err: toError(error) }, toError(error).message));
          }
        },
        runtime.logger.child({ component: 'server' }),
        config.shutdownGraceMs,
      );
    });
}

/**
 * Resolves once SIGINT or SIGTERM arrived and `stop` finished. A second signal exits at once. The
 * steps are logged like everything else (structured, with the node), so that an operator sees in
 * one place which node stopped, what it waited for (the engine says) and when it was done.
 */
async function shutdownOnSignal(stop: () => Promise<void>, logger: Logger, graceMs: number): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info(
    { signal, graceMs },
    `${signal}: shutting down: no new requests; the work in flight finishes (calls get ${graceMs} ms, shutdownGraceMs) and the leases are handed back. Send it again to exit at once`,
  );
  for (const again of ['SIGINT', 'SIGTERM'] as const) {
    process.once(again, () => {
      logger.warn({ signal: again }, `${again} again: exiting at once; other nodes take over what was in flight once its leases expire`);
      process.exit(1);
    });
  }
  const started = Date.now();
  await stop();
  logger.info({ signal, ms: Date.now() - started }, 'shut down');
}
