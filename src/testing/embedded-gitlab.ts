import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGitLabCapability } from '../capabilities/gitlab/index.js';
import type { DatabaseConfig } from '../config/database.js';
import { AutoflowError, toError } from '../core/errors.js';
import type { Capability, Clock } from '../core/ports.js';
import type { WebhookSource } from '../gitlab/webhook-auth.js';
import { createGitLabSimulator, demoSeed, SnapshotError, type GitLabSimulator, type OAuthApplication } from './gitlab-sim/index.js';

/** Where `autoflow server` mounts the simulator on its own port. */
export const SIMULATOR_PATH = '/simulator/gitlab';
export const BOT_USERNAME = 'autoflow-bot';
/** The simulator's state file, beside the server's SQLite database. */
export const SIMULATOR_STATE_FILE = 'gitlab-simulator.json';

/**
 * Where the built-in simulator of a server with this database keeps its state: beside the SQLite
 * file (as the session secret), so that one data folder holds the runs and the GitLab they acted on.
 * None for `memory:` (nothing outlives the process) and for PostgreSQL (no data folder: the
 * simulator starts from the demo data each time, and the server says so at start).
 */
export function simulatorStateFile(db: DatabaseConfig): string | undefined {
  return db.kind === 'sqlite' && db.path !== ':memory:' ? join(dirname(db.path), SIMULATOR_STATE_FILE) : undefined;
}

/** The state file exists but cannot be loaded; the server does not start rather than reseed over it. */
export class SimulatorStateError extends AutoflowError {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'simulator_state_unreadable',
      `the built-in GitLab simulator's state file ${file} cannot be loaded: ${reason}. Restore it from a backup, or delete it to start again from the demo data (runs are kept, but they will see the demo GitLab again)`,
      { ...options, details: { file } },
    );
  }
}

export interface EmbeddedGitLabOptions {
  clock?: Clock;
  /**
   * File the simulator's state is loaded from (when present) and saved to, so that it survives a
   * restart; see `simulatorStateFile`. @default none: in memory, from the demo data each time
   */
  stateFile?: string | undefined;
  /** How long after a change it is saved, so that a burst of changes is one write. @default 200 */
  saveDelayMs?: number;
  /** A save after a change failed (the next change or `close()` tries again). @default console.error */
  onSaveError?: (error: Error) => void;
}

export interface EmbeddedGitLab {
  simulator: GitLabSimulator;
  /** The source its webhooks authenticate as, with a secret made for this process. */
  webhookSource: WebhookSource;
  /** The `gitlab` capability, acting as the bot user (a maintainer of the demo group), in process. */
  capability: Capability;
  /** The simulator's REST base once attached (`<server>/simulator/gitlab`). */
  baseUrl(): string;
  /**
   * Points the simulator's links and its group webhook at the server, once the server listens, and
   * registers the web UI's OAuth application (redirect `<publicUrl ?? serverUrl>/auth/callback`).
   */
  attach(serverUrl: string, publicUrl?: string): void;
  /** The web UI's OAuth application in the simulator, once attached. */
  oauthApplication(): OAuthApplication | undefined;
  /** Where the state is kept; undefined when only in memory. */
  stateFile: string | undefined;
  /** Whether the state was loaded from `stateFile` (false: it started from the demo data). */
  restored: boolean;
  /** Stops webhook retries and saves the state a last time. @throws when that save fails */
  close(): Promise<void>;
}

/**
 * The GitLab a newcomer gets when none is configured: the simulator with the demo seed, a bot
 * user for workflows, and a group webhook to the server's own `/webhooks/gitlab`. With a
 * `stateFile` it continues from the state saved there instead of the demo seed, and saves changes to it.
 * @throws SimulatorStateError when `stateFile` exists but cannot be loaded
 */
export function createEmbeddedGitLab(options: EmbeddedGitLabOptions = {}): EmbeddedGitLab {
  const { stateFile } = options;
  const saved = stateFile === undefined ? undefined : readStateFile(stateFile);
  const saver = stateFile === undefined ? undefined : new StateFileSaver(stateFile, () => simulator.snapshot(), options);
  let simulator: GitLabSimulator;
  try {
    simulator = createGitLabSimulator({
      ...(saved === undefined ? { seed: demoSeed() } : { snapshot: saved }),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(saver ? { onChange: () => saver.changed() } : {}),
    });
  } catch (caught) {
    if (stateFile !== undefined && caught instanceof SnapshotError)
      throw new SimulatorStateError(stateFile, caught.message, { cause: caught });
    throw caught;
  }
  const token = botToken(simulator);
  const secret = randomBytes(24).toString('base64url');
  let application: OAuthApplication | undefined;
  return {
    simulator,
    webhookSource: { name: 'simulator', secret, builtIn: true },
    // In process: calls reach the simulator without a socket; its links use the attached URL.
    capability: createGitLabCapability({ baseUrl: 'http://gitlab.simulator', token, fetch: simulator.fetch }),
    baseUrl: () => simulator.state.baseUrl,
    attach(serverUrl, publicUrl) {
      const browserUrl = (publicUrl ?? serverUrl).replace(/\/+$/, '');
      simulator.state.baseUrl = `${browserUrl}${SIMULATOR_PATH}`;
      simulator.webhooks.add({ url: `${serverUrl}/webhooks/gitlab`, token: secret, group: 'demo' });
      application = simulator.oauth.registerApplication({ name: 'AutoFlow', redirectUri: `${browserUrl}/auth/callback` });
    },
    oauthApplication: () => application,
    stateFile,
    restored: saved !== undefined,
    async close() {
      simulator.webhooks.stop();
      await saver?.close();
    },
  };
}

/** The file's text; undefined when there is none yet (a first start). */
function readStateFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (caught) {
    const error = toError(caught);
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new SimulatorStateError(file, error.message, { cause: error });
  }
}

/**
 * The token workflows act with: the bot's, kept in the state like every token (so a restart adds
 * none), or — on a first start, or after someone revoked it — a new one, with the bot created
 * and made a maintainer of the demo group if it is not there.
 */
function botToken(simulator: GitLabSimulator): string {
  const { state } = simulator;
  const bot = state.userByUsername(BOT_USERNAME);
  const kept = bot && [...state.tokens.values()].find((t) => t.userId === bot.id && t.name === `${BOT_USERNAME}-seed` && !t.revoked);
  if (kept) return kept.token;
  const token = `sim-${randomBytes(18).toString('base64url')}`;
  simulator.seed({ ...(bot ? {} : { users: [{ username: BOT_USERNAME, name: 'AutoFlow Bot' }] }), tokens: { [BOT_USERNAME]: token } });
  if (!bot) simulator.actions.setMember('root', { group: 'demo' }, BOT_USERNAME, 'maintainer');
  return token;
}

/**
 * Saves the simulator's state after changes: `saveDelayMs` after the first unsaved one (a burst is
 * one write, and a crash loses at most that much), one write at a time, and a last one at `close()`.
 */
class StateFileSaver {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<Error | undefined> | undefined;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
    private readonly options: Pick<EmbeddedGitLabOptions, 'saveDelayMs' | 'onSaveError'>,
  ) {}

  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save().then((error) => {
        if (error) (this.options.onSaveError ?? ((e: Error) => console.error('gitlab-sim: saving the state failed', e)))(error);
      });
    }, this.options.saveDelayMs ?? 200);
    // The server keeps the process alive; a saver alone must not (close() writes what is pending).
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = true;
    const error = await this.save();
    if (error) throw new Error(`saving the built-in GitLab simulator's state to ${this.file} failed: ${error.message}`, { cause: error });
  }

  /** Writes the state as it is now, after the write in progress; resolves to the error, if any. */
  private async save(): Promise<Error | undefined> {
    while (this.writing) await this.writing;
    if (!this.dirty) return undefined;
    this.dirty = false;
    // The snapshot is taken now, synchronously: changes made during the write mark it dirty again.
    this.writing = (async () => writeDurably(this.file, this.snapshot()))().then(
      () => undefined,
      (caught: unknown) => {
        this.dirty = true;
        return toError(caught);
      },
    );
    try {
      return await this.writing;
    } finally {
      this.writing = undefined;
    }
  }
}

/**
 * Replaces `file` with `text` so that a crash or power cut leaves the old file or the new one,
 * never a part: a temporary file beside it, fsync'd, renamed over it, then the folder fsync'd.
 * Mode 0600: the file holds the simulator's tokens.
 */
async function writeDurably(file: string, text: string): Promise<void> {
  const folder = dirname(file);
  await mkdir(folder, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (caught) {
    await rm(temporary, { force: true });
    throw caught;
  }
  // Windows cannot open a folder to sync it; its rename is as durable as it gets there.
  if (process.platform === 'win32') return;
  const directory = await open(folder, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
