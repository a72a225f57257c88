/**
 * The workflow runtime inside the sandbox: a pure state machine, "activation in, commands out".
 *
 * Durable operations (calls, timers, waits, child runs) get their step number synchronously when
 * they are called, before any await, so that a replay that issues the same operations in the same
 * order gets the same numbers. Each operation's promise is settled only by a resolution the host
 * delivers in an activation; nothing inside the sandbox can settle it.
 */
import type { Activation, CloudEvent, Command, ErrorInfo, Json, LogLevel, Resolution } from '../core/model.js';
import { CancelledError, ContinueAsNewSignal, RemoteError, errorInfoOf } from './errors.js';
import type { Duration } from './duration.js';
import { lostDataIn } from './plain-data.js';
import type { InitPayload, ManifestReply } from './protocol.js';
import { createRandom, uuid4From } from './random.js';
import type { RunInfo, WorkflowDefinition } from './types.js';
import { WaitChannels } from './wait-channels.js';
import { checkInput, isWorkflowDefinition, manifestOf, runTimeoutMs, startRun } from './workflow.js';

// -- the protocol's own built-ins ---------------------------------------------------------------
// Copies taken when this module loads, which is before any workflow code runs (bootstrap.ts, which
// imports it, is the first module of every bundle). Workflow code shares the realm and may replace
// JSON.stringify, Array.prototype.push or join, or give Object.prototype a `toJSON`; what the protocol
// carries is written with these copies, from objects and lists without a prototype, so that none of
// that changes a command. (The host checks every reply anyway, and a cancelled run's cancel reaches
// only its own children: this keeps the SDK's own output honest, it is not what the host relies on.)
const { stringify, parse } = JSON;
const { setPrototypeOf } = Object;
// `call` bound to `join`: a function of (list, separator) that looks nothing up when it runs.
const joinOf = Function.prototype.call.bind(Array.prototype.join) as (list: readonly string[], separator: string) => string;
const SdkError = Error;

/**
 * An array without a prototype: reading it, growing it with `list[list.length] = item` and emptying it
 * with `list.length = 0` consult nothing that workflow code can replace.
 */
function protocolList<T>(): T[] {
  return setPrototypeOf([], null) as T[];
}

/** `fields` as JSON, copied first into an object without a prototype, so that no inherited `toJSON` replaces it. */
function protocolJson(fields: object): string {
  return stringify({ __proto__: null, ...fields });
}

/** JSON.parse as it was before workflow code ran, for the protocol functions of bootstrap.ts. */
export const parseProtocolJson: (json: string) => unknown = parse;
/** The JSON of a protocol reply (bootstrap.ts's manifest), as the commands are written. */
export const protocolReplyJson = (reply: object): string => protocolJson(reply);

type DurableKind = 'call' | 'timer' | 'wait' | 'child';

/** Recorded where a cancel that came first ends a run that continues as new (see `failure`). */
export const CANCEL_BEFORE_CONTINUE_PATCH = 'autoflow.cancel-before-continue';

type WithoutStep<C> = C extends unknown ? Omit<C, 'step' | 'site'> : never;
/** A durable command before the runtime numbers it. */
export type DurableCommand = WithoutStep<Extract<Command, { kind: DurableKind }>>;

interface Pending {
  kind: DurableKind;
  /** For a child run: its id. */
  childId?: string;
  /**
   * For a call: the raw stack of the author's call. For a child run: that of the call that awaits it (where it was
   * started, until `result()` is called). Given to the error it fails with, made by the SDK, whose own stack is the
   * SDK's alone: so that the run's error points at the author's line.
   */
  site?: string;
  /** For a wait whose event WaitChannels hands out: takes the resolution instead of `resolve`. */
  onWait?: (event: CloudEvent | null) => void;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export class WorkflowRuntime {
  private info: InitPayload | undefined;
  private definition: WorkflowDefinition | undefined;
  /** Why the module cannot be run, when it cannot. */
  private moduleProblem = 'the workflow module was not registered';
  private time = 0;
  /** Activations so far: which workflow task the run is in. */
  private activations = 0;
  private replaying = false;
  private replayPatches: readonly string[] = [];
  /** Between `activate` and `collect`: logs are only emitted then. */
  private activating = false;
  private started = false;
  private cancelRequested = false;
  private cancelReason: string | undefined;
  /** Set when the run's `timeout` passed first: the cancel it made ends the run failed, with this error. */
  private timedOut: ErrorInfo | undefined;
  private nextStep = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly patchDecisions = new Map<string, boolean>();
  /** Commands issued since the last collect, already serialised (which also validates them). */
  private readonly issued = protocolList<string>();
  private terminal: string | undefined;
  private terminalCollected = false;
  // Seeded with '' until init, so that code running while the module loads is deterministic too.
  private rng = createRandom('');
  /** While `issuingFrom` runs: the raw stack of the author's call that the steps it issues serve. */
  private callerStack: string | undefined;
  /** Who gets the events delivered to `signal()` and `waitFor()` waits (a race's losing branch does not). */
  readonly waits = new WaitChannels(this);

  // -- protocol (called by the host through the globals of bootstrap.ts) ------------------------

  registerModule(module: Record<string, unknown>): void {
    const candidate = module.default;
    if (candidate === undefined) {
      this.moduleProblem =
        'the module has no default export: end it with `export default workflow({...})`; a file of helpers that ' +
        'workflows import belongs in a subfolder (`./lib/labels.ts`): every top-level file of the workflows folder is a workflow';
    } else if (!isWorkflowDefinition(candidate)) {
      this.moduleProblem = "the default export was not created by workflow() from 'autoflow'";
    } else {
      this.definition = candidate;
    }
  }

  manifest(): ManifestReply {
    return this.definition ? manifestOf(this.definition) : { ok: false, problem: this.moduleProblem };
  }

  checkInput(input: Json): Promise<string> {
    return checkInput(this.requireDefinition(), input).then((result) => protocolJson(result));
  }

  init(payload: InitPayload): void {
    this.info = payload;
    this.rng = createRandom(payload.seed);
  }

  activate(activation: Activation): void {
    this.activations++;
    this.time = activation.time;
    this.replaying = activation.replaying;
    this.replayPatches = activation.patches ?? [];
    this.activating = true;
    if (activation.start) this.start(activation.start.input);
    for (const resolution of activation.resolutions) this.deliver(resolution);
  }

  /** The commands issued since the previous collect, as a JSON array; the run's end comes last. */
  collect(): string {
    this.activating = false;
    const issued = this.issued;
    if (this.terminal !== undefined && !this.terminalCollected) {
      issued[issued.length] = this.terminal;
      this.terminalCollected = true;
    }
    const json = `[${joinOf(issued, ',')}]`;
    issued.length = 0;
    return json;
  }

  // -- services for the SDK's API ----------------------------------------------------------------

  now(): number {
    return this.time;
  }

  /** The current workflow task, counted from 1 (0 while the module loads). */
  task(): number {
    return this.activations;
  }

  random(): number {
    return this.rng.next();
  }

  uuid4(): string {
    return uuid4From(this.rng);
  }

  runInfo(): RunInfo {
    const info = this.requireInfo();
    return { runId: info.runId, workflow: info.workflow };
  }

  /**
   * Issues a durable command and returns the promise its resolution will settle. `operation`
   * names it in errors; `build` gets the step number (child ids derive from it). Throws a
   * TypeError, without using up a step, when the command is not JSON.
   */
  schedule(operation: string, build: (step: number) => DurableCommand): Promise<unknown> {
    const step = this.issueDurable(operation, build);
    // After the run ended, branches still running (a lost race, say) must not issue anything.
    if (step === undefined) return new Promise(() => {});
    return new Promise((resolve, reject) => {
      this.pending.set(step.step, {
        kind: step.kind,
        resolve,
        reject,
        ...(step.childId !== undefined && { childId: step.childId }),
        ...((step.kind === 'call' || step.kind === 'child') && { site: step.site }),
      });
    });
  }

  /** The child run of `step` is awaited here (`ChildHandle.result()`): its failure points at this call. */
  childAwaited(step: number): void {
    const pending = this.pending.get(step);
    if (pending?.kind === 'child') pending.site = new SdkError().stack;
  }

  /**
   * Issues a wait whose resolution goes to `onWait` rather than to a promise of its own: WaitChannels
   * decides who gets the event (wait-channels.ts). A cancel of the run calls `onCancel`.
   */
  scheduleWait(
    operation: string,
    build: (step: number) => DurableCommand,
    onWait: (event: CloudEvent | null) => void,
    onCancel: (reason: unknown) => void,
  ): void {
    const step = this.issueDurable(operation, build);
    if (step !== undefined) this.pending.set(step.step, { kind: 'wait', onWait, resolve: () => {}, reject: onCancel });
  }

  /**
   * Asks the child run `childId` to cancel, in this task's commit (`ChildHandle.cancel()`). Not a step:
   * the child's end reaches the run as any child's does.
   */
  cancelChild(childId: string, reason: string): void {
    this.requireRunning('cancel()');
    if (this.terminal !== undefined) return;
    this.issued[this.issued.length] = protocolJson({ kind: 'cancelChild', childId, reason });
  }

  /**
   * The raw stack here, followed by `outer` when given: what a helper keeps, when it is called, of the author's
   * call, for the steps it issues after an await (`issuingFrom`). A `result()` of a handle passes the stack kept
   * when the handle was opened as `outer`: a `result()` the author calls is its own line, one the SDK calls is
   * the line that opened it.
   */
  stackHere(outer?: string): string {
    const stack = new SdkError().stack ?? '';
    return outer === undefined ? stack : `${stack}\n${outer}`;
  }

  /**
   * Calls `issue`, giving the steps and patch markers it issues `callerStack` after their own stack. QuickJS keeps
   * no stack across an await, so a step a helper issues after one (tasks.form's `tasks.create`, after it awaits
   * the expansion of its assignees, groups or none) has only the SDK's frames; the host takes the first of the
   * author's frames in the two stacks (source-map.ts), which is the step's own when it has one. Ordinary calls pay
   * nothing: they never set it.
   */
  issuingFrom<T>(callerStack: string, issue: () => T): T {
    const outer = this.callerStack;
    this.callerStack = callerStack;
    try {
      return issue();
    } finally {
      this.callerStack = outer;
    }
  }

  /** The raw stack of a durable command or patch marker: this call's, then the one `issuingFrom` gives. */
  private siteStack(): string | undefined {
    return this.callerStack === undefined ? new SdkError().stack : this.stackHere(this.callerStack);
  }

  /** Numbers and writes a durable command; undefined once the run has ended (the command is dropped). */
  private issueDurable(
    operation: string,
    build: (step: number) => DurableCommand,
  ): { step: number; kind: DurableKind; childId?: string; site?: string } | undefined {
    this.requireRunning(operation);
    const step = this.nextStep;
    // The raw stack of this call; the host maps it through the source map to the author's line.
    const site = this.siteStack();
    const command = build(step);
    let serialised: string;
    try {
      serialised = stringify({ __proto__: null, ...command, step, site });
    } catch (error) {
      throw new TypeError(`${operation}: its arguments are not JSON-serialisable (${(error as Error).message})`);
    }
    const lost = lostDataIn(command, serialised, '');
    if (lost !== undefined) throw new TypeError(`${operation} ${lost}`);
    this.nextStep++;
    if (this.terminal !== undefined) return undefined;
    this.issued[this.issued.length] = serialised;
    return { step, kind: command.kind, site, ...(command.kind === 'child' && { childId: command.childId }) };
  }

  /** Memoised per run: once answered, the same id gets the same answer for the rest of the run. */
  patched(patchId: string): boolean {
    this.requireRunning('patched()');
    const known = this.patchDecisions.get(patchId);
    if (known !== undefined) return known;
    const decision = this.replaying ? this.replayPatches.includes(patchId) : true;
    this.patchDecisions.set(patchId, decision);
    // With the raw stack of the call, as a durable command has: the host maps it to the author's line.
    if (decision) this.issued[this.issued.length] = protocolJson({ kind: 'patch', patchId, site: this.siteStack() });
    return decision;
  }

  log(level: LogLevel, message: string): void {
    // A replay re-executes code that already logged, so it stays silent.
    if (!this.activating || this.replaying) return;
    this.issued[this.issued.length] = protocolJson({ kind: 'log', level, message });
  }

  /** Throws unless a run is in progress: durable operations make no sense while the module loads. */
  requireRunning(operation: string): void {
    if (!this.started) {
      throw new Error(`${operation} can only be used while the workflow runs (inside run()), not while its module loads`);
    }
  }

  // -- internals -------------------------------------------------------------------------------

  private requireInfo(): InitPayload {
    if (!this.info) throw new Error('protocol error: the instance was not initialised');
    return this.info;
  }

  private requireDefinition(): WorkflowDefinition {
    if (!this.definition) throw new Error(`protocol error: ${this.moduleProblem}`);
    return this.definition;
  }

  private start(input: Json): void {
    const definition = this.requireDefinition();
    this.requireInfo();
    if (this.started) throw new Error('protocol error: the run was already started');
    this.started = true;
    if (definition.timeout !== undefined) this.armTimeout(definition.timeout, definition.name);
    startRun(definition, input).then(
      (result) => this.settle(this.completion(result)),
      (error: unknown) => this.settle(this.failure(error)),
    );
  }

  private completion(result: unknown): string {
    let json: string | undefined;
    try {
      json = stringify(result === undefined ? null : result);
    } catch (error) {
      return this.failure(new TypeError(`The workflow's result is not JSON-serialisable (${(error as Error).message}): return plain data`));
    }
    if (json === undefined) {
      return this.failure(new TypeError(`The workflow returned a ${typeof result}: return plain JSON data`));
    }
    const lost = lostDataIn(result, json, 'result');
    if (lost !== undefined) return this.failure(new TypeError(`The workflow's result ${lost}`));
    return `{"kind":"complete","result":${json}}`;
  }

  /**
   * Only the cancellation itself, rethrown or let through, ends the run `cancelled`. Another error
   * thrown after a cancel (a compensation that failed) fails the run with that error, as in Temporal:
   * `new Error('…', { cause: cancelled })` keeps the cancellation as its cause.
   */
  private failure(error: unknown): string {
    if (this.cancelRequested && error instanceof CancelledError) return this.cancelledCommand();
    if (error instanceof ContinueAsNewSignal) {
      // A cancel that came before the run continued (in the same task as what it continued on, say) is not lost to
      // the successor: the run ends cancelled instead. Runs recorded before this rule replay as they ran.
      if (this.cancelRequested && this.patched(CANCEL_BEFORE_CONTINUE_PATCH)) return this.cancelledCommand();
      const carry = this.waits.unconsumedSignals();
      return protocolJson({ kind: 'continueAsNew', input: error.input, ...(carry.length > 0 && { carry }) });
    }
    const info = errorInfoOf(error);
    // Whatever an error class made of its name, message or stack, the run fails with the strings the host expects.
    const failure: ErrorInfo = {
      __proto__: null,
      ...info,
      name: typeof info.name === 'string' ? info.name : 'Error',
      message: typeof info.message === 'string' ? info.message : '',
    } as ErrorInfo;
    if (typeof failure.stack !== 'string') delete failure.stack;
    return protocolJson({ kind: 'fail', error: failure });
  }

  /**
   * The run ends cancelled, or failed with a RunTimeoutError when its timeout made the cancel. No `children`: those
   * still running were asked to cancel when the cancel arrived (cancel()).
   */
  private cancelledCommand(): string {
    if (this.timedOut !== undefined) return protocolJson({ kind: 'fail', error: this.timedOut });
    return protocolJson({ kind: 'cancelled', ...(this.cancelReason !== undefined && { reason: this.cancelReason }) });
  }

  /**
   * `workflow({ timeout })`: a timer from the run's start, its first step. Firing before the run ended, it cancels the
   * run as a cancel request does (cleanup runs), and the run fails instead of ending cancelled: it did not do its work.
   */
  private armTimeout(timeout: Duration, workflowName: string): void {
    const ms = runTimeoutMs(timeout, workflowName);
    const fired = this.schedule('workflow({ timeout })', () => ({ kind: 'timer', fireAt: Math.ceil(this.time + ms), timeout: true }));
    fired.then(
      () => {
        if (this.terminal !== undefined || this.cancelRequested) return;
        const limit = typeof timeout === 'number' ? `${timeout} ms` : timeout;
        const message = `the run did not end within its timeout of ${limit} (workflow({ timeout })): it was cancelled, and its cleanup ran`;
        this.timedOut = { name: 'RunTimeoutError', message, details: { code: 'run_timed_out', timeoutMs: ms } };
        this.cancel(`its timeout of ${limit} passed`);
      },
      // A cancel that came first rejects it with the run's other pending steps: nothing is left to time out.
      () => {},
    );
  }

  private settle(command: string): void {
    this.terminal ??= command;
  }

  private deliver(resolution: Resolution): void {
    if (resolution.kind === 'cancel') {
      this.cancel(resolution.reason);
      return;
    }
    const pending = this.pending.get(resolution.step);
    // Unknown or already settled (by a cancel, say): nothing waits for it any more.
    if (!pending) return;
    if (pending.kind !== resolution.kind) {
      throw new Error(`protocol error: step ${resolution.step} is a ${pending.kind}, but a ${resolution.kind} resolution was delivered`);
    }
    this.pending.delete(resolution.step);
    switch (resolution.kind) {
      case 'timer':
        pending.resolve(undefined);
        break;
      case 'wait':
        if (pending.onWait) pending.onWait(resolution.event);
        else pending.resolve(resolution.event);
        break;
      case 'call':
      case 'child': {
        if (resolution.ok) {
          pending.resolve(resolution.value);
          break;
        }
        const error = new RemoteError(resolution.error);
        // Made here, its own stack is the SDK's alone: the one of the author's call says where the run failed.
        if (pending.site !== undefined) error.stack = pending.site;
        pending.reject(error);
        break;
      }
    }
  }

  /**
   * Rejects what is pending now; operations issued afterwards (cleanup) work normally. A run is
   * cancelled once: a repeated request must not interrupt the cleanup the first one started, so it
   * is ignored (as Temporal ignores a repeated cancel request). The child runs still running are asked
   * to cancel in this task, as Temporal does by default: waiting for the end of the cleanup would let
   * them go on acting for as long as it takes (a `finally` that sleeps an hour).
   */
  private cancel(reason: string | undefined): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.cancelReason = reason;
    const waiting = [...this.pending.values()];
    const { runId } = this.requireInfo();
    for (const pending of waiting)
      if (pending.childId !== undefined) this.cancelChild(pending.childId, `its parent run ${runId} was cancelled`);
    this.pending.clear();
    for (const pending of waiting) pending.reject(new CancelledError(reason));
  }
}

let current: WorkflowRuntime | undefined;

/** Makes `runtime` the one the SDK's functions talk to (bootstrap.ts in the sandbox; tests). */
export function setCurrentRuntime(runtime: WorkflowRuntime): void {
  current = runtime;
}

/** The runtime when there is one: for what works with plain promises too (`race`). */
export function runtimeIfAny(): WorkflowRuntime | undefined {
  return current;
}

export function currentRuntime(): WorkflowRuntime {
  if (!current) {
    throw new Error("autoflow: workflow functions only work inside the AutoFlow sandbox, where 'autoflow' is set up");
  }
  return current;
}
