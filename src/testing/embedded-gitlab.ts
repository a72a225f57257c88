import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createSystemClock } from '../app/clocks.js';
import { createGitLabCapability } from '../capabilities/gitlab/index.js';
import type { GitLabClientOptions } from '../capabilities/gitlab/client.js';
import type { DatabaseConfig } from '../config/database.js';
import { AutoflowError, toError } from '../core/errors.js';
import type { Capability, Clock } from '../core/ports.js';
import type { WebhookSource } from '../gitlab/webhook-auth.js';
import {
  createGitLabSimulator,
  DEMO_BOT_USERNAME,
  demoSeed,
  SnapshotError,
  type GitLabSimulator,
  type OAuthApplication,
} from './gitlab-sim/index.js';

/** Where `autoflow server` mounts the simulator on its own port. */
export const SIMULATOR_PATH = '/simulator/gitlab';
/** The account workflows act as: the demo seed's first user, as in a test environment seeded with `demoSeed()`. */
export const BOT_USERNAME = DEMO_BOT_USERNAME;
/** The simulator's state file beside the default database, `autoflow.db`; another database's adds its name. */
export const SIMULATOR_STATE_FILE = 'gitlab-simulator.json';
const DEFAULT_DATABASE_FILE = 'autoflow.db';

/**
 * Where the built-in simulator of a server with this database keeps its state: beside the SQLite
 * file (as the session secret), so that one data folder holds the runs and the GitLab they acted on.
 * Each database has its own (`x.db` → `x.gitlab-simulator.json`), so that two servers whose
 * databases share a folder do not overwrite each other's GitLab; the default database's keeps the
 * plain name it always had. None for `memory:` (nothing outlives the process) and for PostgreSQL
 * (no data folder: the simulator starts from the demo data each time, and the server says so at start).
 */
export function simulatorStateFile(db: DatabaseConfig): string | undefined {
  if (db.kind !== 'sqlite' || db.path === ':memory:') return undefined;
  const folder = dirname(db.path);
  const name = basename(db.path);
  const shared = join(folder, SIMULATOR_STATE_FILE);
  if (name === DEFAULT_DATABASE_FILE) return shared;
  const own = join(folder, `${basename(name, extname(name))}.${SIMULATOR_STATE_FILE}`);
  // Before, every database of a folder shared the plain name: a database not named autoflow.db takes that file as
  // its own, unless autoflow.db is there to claim it, rather than starting again from the demo data.
  if (!existsSync(own) && existsSync(shared) && !existsSync(join(folder, DEFAULT_DATABASE_FILE))) renameSync(shared, own);
  return own;
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
  /**
   * How long after the first unsaved change the state is on disk at the latest (a burst of changes is one
   * write); a REST request that comes later than that waits for the write. @default 200
   */
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
  /** How the server reaches the simulator's REST API as the bot, in process (the web UI reads group members). */
  apiAccess: GitLabClientOptions;
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
  const clock = options.clock ?? createSystemClock();
  const saver = stateFile === undefined ? undefined : new StateFileSaver(stateFile, () => simulator.snapshot(), clock, options);
  let simulator: GitLabSimulator;
  try {
    simulator = createGitLabSimulator({
      ...(saved === undefined ? { seed: demoSeed() } : { snapshot: saved }),
      clock,
      ...(saver ? { onChange: () => saver.changed() } : {}),
    });
  } catch (caught) {
    if (stateFile !== undefined && caught instanceof SnapshotError)
      throw new SimulatorStateError(stateFile, caught.message, { cause: caught });
    throw caught;
  }
  const apiAccess: GitLabClientOptions = { baseUrl: 'http://gitlab.simulator', token: botToken(simulator), fetch: simulator.fetch };
  const secret = randomBytes(24).toString('base64url');
  let application: OAuthApplication | undefined;
  return {
    simulator,
    webhookSource: { name: 'simulator', secret, builtIn: true },
    // In process: calls reach the simulator without a socket; its links use the attached URL.
    capability: createGitLabCapability(apiAccess),
    apiAccess,
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
 * none), or — on a first start, or after someone revoked it — a new, secret one (the demo seed
 * gives the bot none). A state file without the bot (someone removed it) gets it back, a
 * maintainer of the demo group as in the seed.
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
 * Saves the simulator's state after changes, so that a change is on disk `saveDelayMs` after the first
 * unsaved one at the latest (a burst is one write; a deadline, not a debounce), and a last time at `close()`.
 *
 * A timer alone cannot keep that promise. The engine reaches the simulator in process, without a socket: a
 * run's calls can follow one another in promise callbacks, and timers then fire only once the run pauses —
 * a whole triage pass later. And a write takes time. So each change checks the deadline itself: one that
 * comes after it starts the save at once and is answered only once that save is on disk (`changed()`
 * returns the wait), which also keeps a burst from outrunning the disk. A save starts early by as long as
 * the last write took, so that it is on disk by the deadline rather than begun at it.
 */
class StateFileSaver {
  private readonly delayMs: number;
  /** When the first change that no snapshot holds yet was made (clock time); undefined when all are saved. */
  private firstUnsavedAt: number | undefined;
  private cancelTimer: (() => void) | undefined;
  /** How long the last write took: saves start that much before their deadline. */
  private lastWriteMs = 0;
  /** Snapshots are numbered: a write renames its file only if no later snapshot is on disk already. */
  private taken = 0;
  private renamed = 0;
  /** Renames happen one at a time, in the order writes finish. */
  private renames: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<Error | undefined>>();
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
    private readonly clock: Clock,
    private readonly options: Pick<EmbeddedGitLabOptions, 'saveDelayMs' | 'onSaveError'>,
  ) {
    this.delayMs = options.saveDelayMs ?? 200;
  }

  /** A change was made: schedules its save; past the deadline, saves now and returns the wait for the disk. */
  changed(): Promise<void> | undefined {
    if (this.closed) return undefined;
    const now = this.clock.now();
    if (this.firstUnsavedAt === undefined) {
      this.firstUnsavedAt = now;
      // The server keeps the process alive; a saver alone must not (close() writes what is pending).
      this.cancelTimer = this.clock.schedule(this.startAt(), () => this.saveInBackground());
      return undefined;
    }
    if (now < this.startAt()) return undefined;
    return this.save().then((error) => this.report(error));
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = await this.save();
    await Promise.all(this.inFlight);
    if (error) throw new Error(`saving the built-in GitLab simulator's state to ${this.file} failed: ${error.message}`, { cause: error });
  }

  /**
   * When the save of the unsaved changes must start to be on disk by their deadline. Never sooner than half
   * the delay: on a disk slower than the delay, the deadline cannot be met anyway, and a write per change
   * would only make every request wait for the disk.
   */
  private startAt(): number {
    return (this.firstUnsavedAt ?? this.clock.now()) + Math.max(this.delayMs / 2, this.delayMs - this.lastWriteMs);
  }

  private saveInBackground(): void {
    if (this.firstUnsavedAt !== undefined) void this.save().then((error) => this.report(error));
  }

  private report(error: Error | undefined): void {
    if (error) (this.options.onSaveError ?? ((e: Error) => console.error('gitlab-sim: saving the state failed', e)))(error);
  }

  /**
   * Writes the state as it is now, without waiting for a write in progress (it holds older changes); resolves
   * once it is on disk, or to the error. A failed save leaves its changes to the next one (the next change's, or close()'s).
   */
  private save(): Promise<Error | undefined> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.firstUnsavedAt = undefined;
    // Taken now, synchronously: changes made during the write start the next deadline.
    let text: string;
    try {
      text = this.snapshot();
    } catch (caught) {
      return Promise.resolve(toError(caught));
    }
    const number = ++this.taken;
    // On the same clock as the deadlines, so that a virtual one (in tests) sees writes take no time.
    const started = this.clock.now();
    const temporary = `${this.file}.${process.pid}.${number}.tmp`;
    const write = writeDurably(this.file, text, temporary, (rename) => {
      // A later snapshot on disk already holds every change of this one: replacing it would lose changes.
      const step = this.renames.then(() => (number > this.renamed ? rename().then(() => void (this.renamed = number)) : undefined));
      this.renames = step.catch(() => undefined);
      return step;
    }).then(
      () => {
        this.lastWriteMs = this.clock.now() - started;
        return undefined;
      },
      (caught: unknown) => toError(caught),
    );
    this.inFlight.add(write);
    void write.then(() => this.inFlight.delete(write));
    return write;
  }
}

/**
 * Replaces `file` with `text` so that a crash or power cut leaves the old file or the new one,
 * never a part: `temporary` beside it, fsync'd, renamed over it by `replace` (which may decide not to,
 * when a newer write got there first), then the folder fsync'd. Mode 0600: the file holds the simulator's tokens.
 */
async function writeDurably(
  file: string,
  text: string,
  temporary: string,
  replace: (rename: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const folder = dirname(file);
  try {
    await mkdir(folder, { recursive: true });
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await replace(() => rename(temporary, file));
  } finally {
    // Gone after a rename; left after a failure or when a newer write replaced the file first.
    await rm(temporary, { force: true });
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
