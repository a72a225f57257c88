/**
 * Cells: separate instances of the QuickJS WebAssembly module, each with its own bounded memory,
 * that host the sandboxes (QuickJS runtimes) of many runs.
 *
 * Why not one module for everything (`getQuickJS()`): measured on quickjs-emscripten 0.32,
 * 1. `runtime.setMemoryLimit` does not bound a runtime's total: this build of QuickJS cannot see
 *    the size of its allocations (`malloc_usable_size unavailable`), so it counts 8 bytes per
 *    block. A 16 MiB limit let `for(;;) a.push(new Array(1e5).fill(1))` reach 1.5 GiB, and WASM
 *    memory never shrinks. A cell's `WebAssembly.Memory` has a hard `maximum`, so a runaway run
 *    hits "out of memory" inside its cell, and the memory is returned when the cell is dropped.
 * 2. Some native recursion (JSON.parse of deeply nested input, deep `eval` nesting) overflows
 *    V8's own stack inside the WASM code before QuickJS's stack check fires. That unwinds
 *    through the C code and leaves the module corrupt; with cells only the runs of that cell are
 *    lost (they are replayed elsewhere), not every run of the process.
 *
 * A cell costs ≈3 ms to create and ≈1 MiB of RSS, so cells are shared: a run is placed in a cell
 * that keeps twice its memory limit free. Creating a cell is asynchronous but `createInstance`
 * is not, so the pool always keeps an empty cell ready and grows in the background; if growth
 * lags behind a burst, the least used cell is overcommitted (limits still hold: see instance.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { RELEASE_SYNC, newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from 'quickjs-emscripten';
import { toError } from '../core/errors.js';

const PAGE_BYTES = 65_536;
/** The module's declared minimum: its static data and its 5 MiB C stack live here. */
const BASE_PAGES = 256;
/** The module's declared maximum (2 GiB); a provided memory may not exceed it. */
const MAX_PAGES = 32_768;
/** What a run is assumed to use until its first measurement (a context with a small bundle ≈ 0.6 MiB). */
const INITIAL_ESTIMATE_BYTES = 1024 * 1024;
/** A run is placed only where this many times its limit is still free. */
const HEADROOM = 2;
/** Empty cells kept for the next runs; more are dropped (see released). */
const MAX_SPARE_CELLS = 2;

/** Node has WebAssembly at run time, but neither lib ES2023 nor @types/node 20 declares it. */
type WasmModule = object;
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      compile(bytes: Uint8Array): Promise<WasmModule>;
      Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
    };
  }
).WebAssembly;

export class Cell {
  broken = false;
  /**
   * A runtime in it was stopped by a limit and left unfreed (see Vm.dispose): it takes no new runs, so that it
   * empties and is dropped, returning what that runtime holds; its other runs go on.
   */
  retiring = false;
  tenants = 0;
  /** Sum of the tenants' last measured heap sizes. */
  usedBytes = 0;
  constructor(
    readonly module: QuickJSWASMModule,
    private readonly memory: { readonly buffer: ArrayBuffer },
    /** Bytes available to QuickJS runtimes beyond the module's base. */
    readonly capacityBytes: number,
  ) {}

  /** Size of the cell's WebAssembly memory: it only ever grows. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  fits(limitBytes: number): boolean {
    // A cell whose memory once grew past half its capacity keeps those pages for good; it takes
    // no new runs, so that it empties and is dropped, returning the memory.
    const grown = this.memoryBytes - BASE_PAGES * PAGE_BYTES;
    // A limit too big for the headroom rule (capacity is capped at 2 GiB) gets a cell to itself.
    const wanted = Math.min(HEADROOM * limitBytes, this.capacityBytes);
    return (
      !this.broken &&
      !this.retiring &&
      limitBytes <= this.capacityBytes &&
      grown <= this.capacityBytes / 2 &&
      this.usedBytes + wanted <= this.capacityBytes
    );
  }
}

/** One sandbox's claim on a cell; tracks its share of the cell's memory. */
export class Tenancy {
  private bytes = INITIAL_ESTIMATE_BYTES;
  private released = false;

  constructor(
    readonly cell: Cell,
    private readonly pool: CellPool,
  ) {
    cell.tenants++;
    cell.usedBytes += this.bytes;
  }

  /** Bytes the cell's other tenants use: when a run hits "out of memory", was it its own doing? */
  neighbourBytes(): number {
    return this.cell.usedBytes - this.bytes;
  }

  report(bytes: number): void {
    this.cell.usedBytes += bytes - this.bytes;
    this.bytes = bytes;
  }

  /** The cell's module is corrupt: no new tenant goes there, and it is dropped once empty. */
  markCellBroken(): void {
    this.pool.markBroken(this.cell);
  }

  /** A runtime of this tenancy is left unfreed in the cell: no new tenant goes there, and it is dropped once empty. */
  retireCell(): void {
    this.cell.retiring = true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.cell.usedBytes -= this.bytes;
    this.cell.tenants--;
    this.pool.released(this.cell);
  }
}

export interface CellPoolOptions {
  /** Bytes each cell offers its runs; raised to 2 × HEADROOM × the largest limit seen. */
  cellBytes: number;
}

async function compileQuickJs(): Promise<WasmModule> {
  // The .wasm file ships in the variant package that quickjs-emscripten depends on.
  const fromQuickJs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
  return wasm.compile(await readFile(fromQuickJs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
}

export class CellPool {
  private readonly cells: Cell[] = [];
  private growing: Promise<void> | undefined;
  private growthError: Error | undefined;
  private largestLimit = 0;

  private constructor(
    private readonly wasmModule: WasmModule,
    private readonly options: CellPoolOptions,
  ) {}

  /** Compiles the QuickJS module once and creates the first cell. */
  static async create(options: CellPoolOptions): Promise<CellPool> {
    const pool = new CellPool(await compileQuickJs(), options);
    await pool.grow();
    if (pool.cells.length === 0) throw pool.growthError ?? new Error('the first sandbox cell could not be created');
    return pool;
  }

  /** Number of live cells (for tests and metrics). */
  get size(): number {
    return this.cells.length;
  }

  /** Resolves once no cell is being created (tests use it to observe growth). */
  async settled(): Promise<void> {
    await this.growing;
  }

  acquire(limitBytes: number): Tenancy {
    this.largestLimit = Math.max(this.largestLimit, limitBytes);
    const healthy = this.cells.filter((cell) => !cell.broken);
    // Pack runs into cells already in use; the empty spare is the last resort before overcommitting.
    const cell =
      healthy.find((candidate) => candidate.tenants > 0 && candidate.fits(limitBytes)) ??
      healthy.find((candidate) => candidate.fits(limitBytes)) ??
      healthy.reduce<Cell | undefined>((least, c) => (!least || c.usedBytes < least.usedBytes ? c : least), undefined);
    if (!cell) {
      void this.grow();
      throw new Error(
        `The sandbox has no usable WebAssembly cell right now${this.growthError ? ` (${this.growthError.message})` : ''}; try again`,
      );
    }
    const tenancy = new Tenancy(cell, this);
    this.keepSpare();
    return tenancy;
  }

  released(cell: Cell): void {
    if (cell.tenants > 0) return;
    const otherSpares = this.cells.filter((other) => other !== cell && !other.broken && other.tenants === 0).length;
    // Dropping an empty cell gives its memory back (a WebAssembly.Memory never shrinks). Up to
    // MAX_SPARE_CELLS reusable ones stay: with only one, a trickle of runs one after another made
    // and dropped a cell per run, and the 16 MiB memories made V8 collect garbage for a quarter
    // of the time.
    if (!cell.fits(0) || otherSpares >= MAX_SPARE_CELLS) {
      this.cells.splice(this.cells.indexOf(cell), 1);
      this.keepSpare();
    }
  }

  markBroken(cell: Cell): void {
    cell.broken = true;
    this.released(cell);
  }

  /** Makes sure an empty, healthy cell big enough for the largest limit is ready or on its way. */
  private keepSpare(): void {
    const spare = this.cells.some((cell) => cell.tenants === 0 && cell.fits(this.largestLimit));
    if (!spare) void this.grow();
  }

  private grow(): Promise<void> {
    this.growing ??= this.createCell()
      .then(
        (cell) => {
          this.cells.push(cell);
          this.growthError = undefined;
        },
        (error: unknown) => {
          this.growthError = toError(error);
        },
      )
      .finally(() => {
        this.growing = undefined;
      });
    return this.growing;
  }

  private async createCell(): Promise<Cell> {
    const wantedBytes = Math.max(this.options.cellBytes, 2 * HEADROOM * this.largestLimit);
    const maximum = Math.min(MAX_PAGES, BASE_PAGES + Math.ceil(wantedBytes / PAGE_BYTES));
    const memory = new wasm.Memory({ initial: BASE_PAGES, maximum });
    const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: this.wasmModule, wasmMemory: memory }));
    return new Cell(module, memory, (maximum - BASE_PAGES) * PAGE_BYTES);
  }
}
