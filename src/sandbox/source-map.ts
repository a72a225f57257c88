/**
 * Maps QuickJS stack traces of a bundle back to the author's TypeScript through the bundle's
 * source map, leaving out the SDK's own frames (their sources are named `autoflow:…` by
 * bundle.ts), so that call sites and error stacks name the author's file and line.
 */
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { BoundedCache } from './bounded-cache.js';

/** The file name the bundle is evaluated under; stack frames of the bundle carry it. */
export const BUNDLE_FILENAME = 'workflow.js';
/** Prefix of the sources that are AutoFlow's, not the author's. */
export const INTERNAL_SOURCE_PREFIX = 'autoflow:';

interface Frame {
  fn: string | undefined;
  /** Where it points after mapping (or as QuickJS said, when it cannot be mapped). */
  file: string;
  line: number;
  column: number;
  internal: boolean;
}

/** QuickJS frames look like `    at fn (file:12:5)` or `    at file:12:5`; `(native)` ones have no position. */
const FRAME = /^\s*at (?:(.*?) \()?([^()\s]+):(\d+):(\d+)\)?\s*$/;

/** Distinct call-site stacks remembered per definition: a loop issues the same stack at every turn. */
const SITE_CACHE_SIZE = 256;

export class SourceMapper {
  private traceMap: TraceMap | undefined;
  /** Raw stack → the author's call site, or null when it cannot be told. */
  private readonly sites = new BoundedCache<string, string | null>(SITE_CACHE_SIZE);

  constructor(private readonly sourceMap: string | undefined) {}

  /** The author's call site (`file.ts:line:column`) in a raw stack, when it can be told. */
  siteOf(stack: string): string | undefined {
    // Without a map the SDK's frames cannot be told from the author's.
    if (this.sourceMap === undefined) return undefined;
    let site = this.sites.get(stack);
    if (site === undefined) {
      const frame = this.frames(stack).find((candidate) => !candidate.internal);
      site = frame ? `${frame.file}:${frame.line}:${frame.column}` : null;
      this.sites.set(stack, site);
    }
    return site ?? undefined;
  }

  /** A V8-style stack (`Name: message` and `at` lines) of the author's frames. */
  stackOf(name: string, message: string, stack: string): string {
    return [`${name}: ${message}`, ...this.authorFramesOf(stack)].join('\n');
  }

  /** The author's frames of a raw stack as V8-style `    at fn (file.ts:12:5)` lines, innermost first. */
  authorFramesOf(stack: string): string[] {
    return this.frames(stack)
      .filter((frame) => !frame.internal)
      .map((frame) => `    at ${frame.fn ? `${frame.fn} (` : ''}${frame.file}:${frame.line}:${frame.column}${frame.fn ? ')' : ''}`);
  }

  private frames(stack: string): Frame[] {
    const frames: Frame[] = [];
    for (const text of stack.split('\n')) {
      const match = FRAME.exec(text);
      if (!match) continue;
      const [, fn, file, line, column] = match as unknown as [string, string | undefined, string, string, string];
      frames.push(this.map({ fn, file, line: Number(line), column: Number(column), internal: false }));
    }
    return frames;
  }

  private map(frame: Frame): Frame {
    if (frame.file !== BUNDLE_FILENAME) return { ...frame, internal: frame.file.startsWith(INTERNAL_SOURCE_PREFIX) };
    const map = this.load();
    if (!map) return frame;
    // QuickJS columns are 1-based, trace-mapping's are 0-based.
    const original = originalPositionFor(map, { line: frame.line, column: frame.column - 1 });
    // A bundle position without a source (esbuild's glue code) is not the author's.
    if (!original.source || original.line === null) return { ...frame, internal: true };
    return {
      fn: frame.fn,
      file: original.source,
      line: original.line,
      column: original.column + 1,
      internal: original.source.startsWith(INTERNAL_SOURCE_PREFIX),
    };
  }

  /** Parsed on first use: most instances never need it. */
  private load(): TraceMap | undefined {
    if (this.traceMap === undefined && this.sourceMap !== undefined) this.traceMap = new TraceMap(this.sourceMap);
    return this.traceMap;
  }
}
