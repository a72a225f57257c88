/**
 * A live workflow run: a Vm with the bundle evaluated once, driven by the protocol of
 * src/sdk/protocol.ts. Each activation is three calls into the sandbox (activate, drain the job
 * queue, collect) under one CPU deadline, then the host post-processes the commands: call sites
 * and error stacks are mapped to the author's source, and limits are enforced.
 *
 * What comes back from the sandbox is untrusted: the SDK writes the commands, but it runs in the
 * same realm as the workflow's code, which can replace what the SDK uses. So the host checks the
 * shape of every reply (`commandsOf`) before anything acts on it.
 */
import { MAX_CAUSE_DEPTH, SandboxLimitError, toError } from '../core/errors.js';
import { MAX_EVENT_DEPTH, nestsDeeperThan } from '../core/storable-json.js';
import type { Activation, ActivationResult, Command, ErrorInfo } from '../core/model.js';
import type { ReplayResults, WorkflowInstance } from '../core/ports.js';
import { PROTOCOL_GLOBALS } from '../sdk/protocol.js';
import { withMissingGlobalHint } from './globals.js';
import type { SourceMapper } from './source-map.js';
import { inTurn } from './turns.js';
import { LimitReached, ScriptError, limitOf, type LimitKind, type Vm, type VmLimits } from './vm.js';

const MIB = 1024 * 1024;
/**
 * Measuring the heap walks every object (≈45 µs for a small run, ≈3 ms at 100,000 objects), so a
 * live activation measures only when its cell's memory grew since the last measurement, or every
 * this many activations. A run that grows only into memory its cell already has is caught within
 * that many tasks; meanwhile the cell's hard maximum bounds it (at 16, measuring cost 4% of the
 * CPU of 50 concurrent runs). Replays never measure: they rebuild a state that was measured live.
 */
const MEASURE_EVERY = 64;
/**
 * The most JSON one command may carry — a result, a call's arguments, a child's input, an event's data —
 * since it is written to the run's history and the API serves it back. Checked only when a whole activation's
 * commands are that large, so that ordinary steps pay nothing for it.
 */
export const MAX_COMMAND_CHARS = 2 * MIB;

/** What a command carries, in the words of the size limit's message. */
const CARRIED: Partial<Record<Command['kind'], string>> = {
  complete: 'a result',
  fail: 'an error',
  call: 'the arguments of a call',
  child: 'the input of a child run',
  continueAsNew: 'the input of the next run',
  wait: 'a wait',
};

/**
 * Refuses a command whose JSON is over MAX_COMMAND_CHARS, saying which and what to do instead. A log line is not
 * refused, whatever its size: it is cut to MAX_LOG_LINE_CHARS when the task is committed (task.ts), and is not
 * stringified here either, so that a gigantic one is not copied again.
 */
function checkCommandSizes(commands: readonly Command[], workflow: string): void {
  for (const command of commands) {
    if (command.kind === 'log') continue;
    const size = JSON.stringify(command).length;
    if (size <= MAX_COMMAND_CHARS) continue;
    throw new SandboxLimitError(
      'size',
      `Workflow '${workflow}' produced ${CARRIED[command.kind] ?? `a '${command.kind}' command`} of ${(size / MIB).toFixed(1)} MiB; ` +
        `a run records at most ${MAX_COMMAND_CHARS / MIB} MiB per value in its history. Keep large data where it lives ` +
        '(GitLab, an artifact store, an HTTP service) and pass references to it.',
    );
  }
}

/**
 * Refuses a command whose value nests deeper than an event or an input may (MAX_EVENT_DEPTH): the server's own
 * recursive code (JSON.stringify when the task is committed) would overflow its stack on it, every time the run
 * was retried, and the run would never end. Iterative, and cheap for the small values of ordinary steps.
 */
function checkCommandDepths(commands: readonly Command[], workflow: string): void {
  for (const command of commands) {
    if (command.kind === 'log') continue;
    // The command object itself is one level: its value may nest MAX_EVENT_DEPTH more.
    if (!nestsDeeperThan(command, MAX_EVENT_DEPTH + 1)) continue;
    throw new SandboxLimitError(
      'size',
      `Workflow '${workflow}' produced ${CARRIED[command.kind] ?? `a '${command.kind}' command`} that nests arrays and objects ` +
        `more than ${MAX_EVENT_DEPTH} levels deep, more than a run may record in its history. Flatten it, or keep the data where ` +
        'it lives and pass a reference to it.',
    );
  }
}

/** Log levels a `log` command may carry. */
const LOG_LEVELS: ReadonlySet<unknown> = new Set(['debug', 'info', 'warn', 'error']);
/** Signals a continue-as-new may carry to its successor; more than a run could ever be sent between two of its tasks. */
const MAX_CARRIED_SIGNALS = 10_000;
/** Commands that end the run: at most one per reply, and the last. */
const ENDINGS: ReadonlySet<unknown> = new Set(['complete', 'fail', 'cancelled', 'continueAsNew']);
const RETRY_FIELDS = ['maxAttempts', 'initialInterval', 'backoffCoefficient', 'maxInterval'] as const;

type Fields = Record<string, unknown>;

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStep = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
const isScalar = (value: unknown): boolean =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** An ErrorInfo as the SDK writes it: the causes below it are checked too, so that no consumer meets a cause without a name. */
function isErrorInfo(value: unknown, depth = 0): boolean {
  const named = isObject(value) && isString(value.name) && isString(value.message) && (value.stack === undefined || isString(value.stack));
  return named && (value.cause === undefined || (depth < MAX_CAUSE_DEPTH && isErrorInfo(value.cause, depth + 1)));
}

function isRetryPolicy(value: unknown): boolean {
  return isObject(value) && RETRY_FIELDS.every((field) => value[field] === undefined || isNumber(value[field]));
}

/**
 * The first field of a command (known to be an object) that is missing or of the wrong type, as
 * "'field' must be …", or undefined when the command is well-formed. Payloads that are any JSON
 * (arguments, inputs, results, error details) are what JSON.parse made of them and are not looked into.
 */
function fieldProblem(command: Fields): string | undefined {
  const { kind } = command;
  const durable = kind === 'call' || kind === 'timer' || kind === 'wait' || kind === 'child';
  if (durable) {
    if (!isStep(command.step)) return "'step' must be a positive integer";
    if (command.site !== undefined && !isString(command.site)) return "'site' must be a string";
  }
  switch (kind) {
    case 'call': {
      if (!isString(command.capability)) return "'capability' must be a string";
      if (!isString(command.method)) return "'method' must be a string";
      const { options } = command;
      if (options !== undefined && !(isObject(options) && (options.retry === undefined || isRetryPolicy(options.retry)))) {
        return "'options' must be an object whose 'retry' has numbers for its fields";
      }
      if (isObject(options) && options.timeoutMs !== undefined && !isStep(options.timeoutMs)) {
        return "'options.timeoutMs' must be a positive integer";
      }
      return undefined;
    }
    case 'timer':
      if (command.timeout !== undefined && command.timeout !== true) return "'timeout' must be true when given";
      return isNumber(command.fireAt) ? undefined : "'fireAt' must be a number";
    case 'wait': {
      if (!isString(command.eventType)) return "'eventType' must be a string";
      const { match } = command;
      if (!isObject(match) || !Object.values(match).every(isScalar)) return "'match' must map paths to strings, numbers, booleans or null";
      return command.timeoutAt === undefined || isNumber(command.timeoutAt) ? undefined : "'timeoutAt' must be a number";
    }
    case 'child':
      if (!isString(command.workflow)) return "'workflow' must be a string";
      return isString(command.childId) ? undefined : "'childId' must be a string";
    case 'patch':
      if (command.site !== undefined && !isString(command.site)) return "'site' must be a string";
      return isString(command.patchId) ? undefined : "'patchId' must be a string";
    case 'log':
      if (!LOG_LEVELS.has(command.level)) return "'level' must be debug, info, warn or error";
      return isString(command.message) ? undefined : "'message' must be a string";
    case 'complete':
      return 'result' in command ? undefined : "'result' is missing";
    case 'fail':
      return isErrorInfo(command.error)
        ? undefined
        : `'error' must be an object with a string 'name' and 'message' (and 'stack'), its 'cause' one like it, at most ${MAX_CAUSE_DEPTH} deep`;
    case 'cancelled': {
      if (command.reason !== undefined && !isString(command.reason)) return "'reason' must be a string";
      const { children } = command;
      return children === undefined || (Array.isArray(children) && children.every(isString))
        ? undefined
        : "'children' must be a list of run ids";
    }
    case 'continueAsNew': {
      const { carry } = command;
      return carry === undefined ||
        (Array.isArray(carry) &&
          carry.length <= MAX_CARRIED_SIGNALS &&
          carry.every((event) => isObject(event) && isString(event.source) && isString(event.id)))
        ? undefined
        : `'carry' must be a list of at most ${MAX_CARRIED_SIGNALS} events' { source, id }`;
    }
    case 'cancelChild':
      if (!isString(command.childId)) return "'childId' must be a string";
      return isString(command.reason) ? undefined : "'reason' must be a string";
    default:
      return 'its kind is not one the host knows';
  }
}

/** Which command of a reply, for a message: its place and its kind (a string cut short, or the type of what is there). */
function nameOf(commands: unknown[], index: number): string {
  const command = commands[index];
  const kind = isObject(command) ? command.kind : undefined;
  return `command ${index + 1} of ${commands.length}${isObject(command) ? ` (kind ${typeof kind === 'string' ? `'${kind.slice(0, 40)}'` : typeof kind})` : ''}`;
}

/**
 * Why a reply to `collect` is not what the SDK writes — a JSON list of commands, each of a known
 * kind with the fields it needs, durable steps in increasing order, at most one ending and that one
 * last — or undefined when it is. A few type checks per command: it runs on every activation.
 */
export function commandsProblem(commands: unknown): string | undefined {
  if (!Array.isArray(commands)) return 'the reply is not a list of commands';
  let lastStep = 0;
  for (let index = 0; index < commands.length; index++) {
    const command: unknown = commands[index];
    if (!isObject(command)) return `${nameOf(commands, index)} is not an object`;
    const problem = fieldProblem(command);
    if (problem !== undefined) return `${nameOf(commands, index)}: ${problem}`;
    if (typeof command.step === 'number') {
      if (command.step <= lastStep) return `${nameOf(commands, index)}: step ${command.step} does not come after step ${lastStep}`;
      lastStep = command.step;
    }
    if (ENDINGS.has(command.kind) && index !== commands.length - 1) {
      return `${nameOf(commands, index)} ends the run, but more commands follow it`;
    }
  }
  return undefined;
}

/**
 * The commands of a reply to `collect`, checked (see commandsProblem). A malformed reply fails the
 * run the way an oversized one does, with a SandboxLimitError: the engine then ends the run as
 * failed, on a live task or a replay alike, and the instance is not used again.
 */
export function commandsOf(json: string | undefined, workflow: string): Command[] {
  let parsed: unknown;
  let problem: string | undefined;
  try {
    parsed = JSON.parse(json ?? '[]');
    problem = commandsProblem(parsed);
  } catch (error) {
    problem = `the reply is not JSON (${toError(error).message})`;
  }
  if (problem === undefined) return parsed as Command[];
  throw new SandboxLimitError(
    'protocol',
    `Workflow '${workflow}' returned commands the host cannot accept, and was stopped: ${problem}. ` +
      "The SDK writes these commands; a workflow that replaces JavaScript's built-ins (JSON, the prototypes of Object or Array) " +
      'or writes to the SDK protocol itself can break them. Leave the built-ins as they are.',
  );
}

/**
 * The most of the author's frames a limit's error keeps: runaway recursion has a frame per call (1,364 of a
 * one-line function at the default stack), and the innermost say where it was.
 */
const MAX_LIMIT_FRAMES = 10;
/** A limit's stack when the sandbox cannot tell where the workflow was (a heap measured after its task, say). */
const PLACE_UNKNOWN = '    (the sandbox cannot tell where in the workflow it was stopped)';

/**
 * The message of a limit: which one, its value, and what to do about it. `where`: the stack lines under it, the
 * author's frames where the workflow was stopped (see placeOf).
 */
export function limitError(limit: LimitKind, limits: VmLimits, workflow: string, where: readonly string[]): SandboxLimitError {
  switch (limit) {
    case 'cpu':
      return new SandboxLimitError(
        'cpu',
        `Workflow '${workflow}' ran for more than ${limits.cpuMs} ms of CPU in one workflow task and was stopped. ` +
          'Look for an endless loop; if the work is legitimate, raise sandbox.cpuMs in the configuration.',
        where,
      );
    case 'memory':
      return new SandboxLimitError(
        'memory',
        `Workflow '${workflow}' needed more than ${(limits.memoryLimitBytes / MIB).toFixed(0)} MiB of memory and was stopped. ` +
          'Keep less data in memory (page through API results); if it is legitimate, raise sandbox.memoryMb in the configuration.',
        where,
      );
    case 'stack':
      return new SandboxLimitError(
        'stack',
        `Workflow '${workflow}' overflowed the sandbox's stack (${(limits.maxStackBytes / 1024).toFixed(0)} KiB) and was stopped: ` +
          'its recursion (or the nesting of the data it parses) is too deep. Rewrite deep recursion as a loop.',
        where,
      );
  }
}

/** Where a limit stopped the workflow, as stack lines: the author's frames of the sandbox's stack, at most MAX_LIMIT_FRAMES. */
function placeOf(where: string | undefined, mapper: SourceMapper): string[] {
  const frames = where === undefined ? [] : mapper.authorFramesOf(where);
  if (frames.length === 0) return [PLACE_UNKNOWN];
  if (frames.length <= MAX_LIMIT_FRAMES) return frames;
  return [...frames.slice(0, MAX_LIMIT_FRAMES), `    … ${frames.length - MAX_LIMIT_FRAMES} more frames`];
}

/**
 * The stack of the interrupt that stopped an async workflow at the CPU deadline. QuickJS turns it into a rejected
 * promise, which the SDK reports as the run's failure: the last command of the reply, when the reply is well-formed
 * enough to find it (commandsOf says why not).
 */
function interruptedAt(json: string | undefined): string | undefined {
  let commands: unknown;
  try {
    commands = JSON.parse(json ?? '[]');
  } catch {
    return undefined;
  }
  const last: unknown = Array.isArray(commands) ? commands.at(-1) : undefined;
  const error = isObject(last) && last.kind === 'fail' ? last.error : undefined;
  return isObject(error) && error.name === 'InternalError' && error.message === 'interrupted' && isString(error.stack)
    ? error.stack
    : undefined;
}

/**
 * Turns what the Vm threw into the port's errors: SandboxLimitError for limits, an Error with the
 * author's stack for exceptions; cell failures pass through as they are.
 */
export function hostErrorOf(error: unknown, limits: VmLimits, workflow: string, mapper: SourceMapper): Error {
  if (error instanceof LimitReached) return limitError(error.limit, limits, workflow, placeOf(error.where, mapper));
  if (error instanceof ScriptError) {
    const message = withMissingGlobalHint(error.info.name, error.info.message);
    const mapped = new Error(`Workflow '${workflow}': ${error.info.name}: ${message}`);
    if (error.info.stack) mapped.stack = mapper.stackOf(error.info.name, message, error.info.stack);
    return mapped;
  }
  return toError(error);
}

export class QuickJsInstance implements WorkflowInstance {
  private heap = 0;
  private unmeasured = MEASURE_EVERY;
  private cellBytesMeasured = 0;

  constructor(
    private readonly vm: Vm,
    private readonly mapper: SourceMapper,
    private readonly workflow: string,
  ) {}

  activate(activation: Activation): Promise<ActivationResult> {
    return inTurn(() => this.activateNow(activation));
  }

  /**
   * Activates in turn until one throws (the results before it, and what it threw), letting the
   * event loop turn between activations when it is due (turns.ts): on PostgreSQL a long replay in
   * one go also stopped the lease heartbeats.
   */
  async replay(activations: Activation[]): Promise<ReplayResults> {
    const results: ActivationResult[] = [];
    for (const activation of activations) {
      try {
        results.push(await inTurn(() => this.activateNow(activation)));
      } catch (error) {
        return { results, failure: toError(error) };
      }
    }
    return { results };
  }

  /** One activation, on this thread. */
  activateNow(activation: Activation): ActivationResult {
    try {
      const json = this.vm.withDeadline(() => {
        this.vm.call(PROTOCOL_GLOBALS.activate, JSON.stringify(activation));
        this.vm.drain();
        return this.vm.call(PROTOCOL_GLOBALS.collect);
      }, interruptedAt);
      const commands = commandsOf(json, this.workflow).map((command) => this.finish(command));
      if ((json?.length ?? 0) > MAX_COMMAND_CHARS) checkCommandSizes(commands, this.workflow);
      checkCommandDepths(commands, this.workflow);
      if (!activation.replaying) this.checkMemory();
      return { commands };
    } catch (error) {
      const failure = hostErrorOf(error, this.vm.limits, this.workflow, this.mapper);
      // A failed activation leaves the run half-advanced: the instance must not be used again.
      this.dispose();
      throw failure;
    }
  }

  /** Heap bytes as of the last measurement (the engine asks often; measuring is not free). */
  memoryUsage(): number {
    return this.heap;
  }

  dispose(): void {
    this.vm.dispose();
  }

  /** The exact check of the memory limit, when a measurement is due (see MEASURE_EVERY). */
  private checkMemory(): void {
    const cellBytes = this.vm.tenancy.cell.memoryBytes;
    if (++this.unmeasured < MEASURE_EVERY && cellBytes === this.cellBytesMeasured) return;
    this.unmeasured = 0;
    this.cellBytesMeasured = cellBytes;
    this.heap = this.vm.heapBytes();
    this.vm.tenancy.report(this.heap);
    if (this.heap > this.vm.limits.memoryLimitBytes) throw new LimitReached('memory');
  }

  private finish(command: Command): Command {
    if ('site' in command) {
      const site = command.site ? this.mapper.siteOf(command.site) : undefined;
      if (site) command.site = site;
      else delete command.site;
    }
    if (command.kind === 'fail') command.error = this.failure(command.error);
    return command;
  }

  /**
   * A run that failed because of a limit stops the instance; other failures get mapped stacks, and a ReferenceError
   * for a global of Node.js or the web says what to use instead (globals.ts).
   */
  private failure(error: ErrorInfo): ErrorInfo {
    const limit = limitOf(error);
    if (limit === 'stack') throw new LimitReached('stack', error.stack);
    if (limit === 'memory') throw this.vm.outOfMemory(error.stack);
    const message = withMissingGlobalHint(error.name, error.message);
    if (!error.stack) return { ...error, message };
    return { ...error, message, stack: this.mapper.stackOf(error.name, message, error.stack) };
  }
}
