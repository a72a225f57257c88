import { CST, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, type Document, type Node } from 'yaml';

/** A YAML value with the line it starts on, aliases and merge keys already resolved as Ruby's Psych resolves them. */
export type Value =
  | { kind: 'map'; line: number; entries: Map<string, Value> }
  | { kind: 'seq'; line: number; items: Value[] }
  | {
      kind: 'scalar';
      line: number;
      value: unknown;
      /** A float's text as Ruby writes it (`16.0`, `1.1`), where it becomes a name; `written` is its text in the file. */
      float?: { text: string; written: string };
    };

/** Where a problem is: `issues rule 'Close stale'`, plus the key path inside the rule. */
export interface Place {
  line: number;
  rule?: string;
  path?: string;
}

/**
 * Reading a YAML document as a Ruby program would (Psych), collecting every problem and warning with its file and line
 * instead of stopping at the first: the base of the triage policy reader.
 */
export class YamlValues {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  protected readonly lines = new LineCounter();
  protected document: Document | undefined;

  constructor(protected readonly file: string) {}

  protected value(node: unknown): Value {
    const line = this.line(node);
    if (isAlias(node)) {
      const target = node.resolve(this.document as Document);
      if (target === undefined) {
        this.problem({ line }, `\`*${node.source}\` names no anchor: write \`&${node.source}\` on the value it stands for, above it`);
        return { kind: 'scalar', line, value: null };
      }
      return this.value(target);
    }
    if (isMap(node)) {
      const entries = new Map<string, Value>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key) && (key.source === '<<' || typeof key.value === 'symbol')) {
          this.merge(this.value(pair.value), entries);
          continue;
        }
        const name = isScalar(key) ? String(key.value) : JSON.stringify(key);
        entries.delete(name); // Psych keeps the last of duplicate keys, in its position
        // Messages about a value point at its key: `date:` rather than the first line inside it.
        const line = this.line(key);
        entries.set(name, pair.value === null ? { kind: 'scalar', line, value: null } : { ...this.value(pair.value), line });
      }
      return { kind: 'map', line, entries };
    }
    if (isSeq(node)) return { kind: 'seq', line, items: node.items.map((item) => this.value(item)) };
    if (isScalar(node)) {
      const isFloat = typeof node.value === 'number' && (node.minFractionDigits !== undefined || node.format === 'EXP');
      if (isFloat && node.source !== undefined) {
        return { kind: 'scalar', line, value: node.value, float: { text: rubyFloatText(node.value as number), written: node.source } };
      }
      return { kind: 'scalar', line, value: node.value };
    }
    return { kind: 'scalar', line, value: null };
  }

  /** Psych's `<<`: the merged keys overwrite those written before it and are overwritten by those after it. */
  protected merge(source: Value, entries: Map<string, Value>): void {
    const maps = source.kind === 'seq' ? [...source.items].reverse() : [source];
    for (const map of maps) {
      if (map.kind !== 'map') {
        this.problem({ line: source.line }, '`<<` must merge a mapping (or a list of mappings)');
        continue;
      }
      for (const [key, value] of map.entries) entries.set(key, value);
    }
  }

  protected line(node: unknown): number {
    const range = (node as Node | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : 1;
  }

  protected map(value: Value, place: Place): Extract<Value, { kind: 'map' }> | undefined {
    if (value.kind === 'map') return value;
    if (value.kind === 'scalar' && value.value === null) return { kind: 'map', line: value.line, entries: new Map() };
    this.problem({ ...place, line: value.line }, 'must be a mapping (`key: value` lines)');
    return undefined;
  }

  protected list(value: Value, place: Place): Value[] | undefined {
    if (value.kind === 'seq') return value.items;
    if (value.kind === 'scalar' && value.value === null) return [];
    this.problem({ ...place, line: value.line }, 'must be a list (`- item` lines)');
    return undefined;
  }

  /** A list of names; a single name is accepted for one. Numbers are names too (`- 1` is label "1"). */
  protected strings(value: Value, place: Place): string[] | undefined {
    const items = value.kind === 'seq' ? value.items : [value];
    if (value.kind === 'scalar' && value.value === null) return undefined;
    const out: string[] = [];
    for (const item of items) {
      if (item.kind === 'scalar' && item.float) {
        const { text, written } = item.float;
        if (text !== written) {
          this.warn(
            { ...place, line: item.line },
            `\`${written}\` is a number in YAML, so this name is '${text}' (as the gem reads it); quote it ('${written}') if the name is '${written}'`,
          );
        }
        out.push(text);
      } else if (item.kind === 'scalar' && (typeof item.value === 'string' || typeof item.value === 'number')) out.push(String(item.value));
      else {
        this.problem({ ...place, line: item.line }, 'must be a name or a list of names');
        return undefined;
      }
    }
    return out;
  }

  protected string(value: Value, place: Place): string | undefined {
    if (value.kind === 'scalar' && typeof value.value === 'string') return value.value;
    this.problem({ ...place, line: value.line }, `must be text, got ${describe(value)}`);
    return undefined;
  }

  protected number(value: Value, place: Place): number | undefined {
    if (value.kind === 'scalar' && typeof value.value === 'number' && Number.isFinite(value.value)) return value.value;
    this.problem({ ...place, line: value.line }, `must be a number, got ${describe(value)}`);
    return undefined;
  }

  protected boolean(value: Value, place: Place): boolean | undefined {
    if (value.kind === 'scalar' && typeof value.value === 'boolean') return value.value;
    this.problem({ ...place, line: value.line }, `must be true or false, got ${describe(value)}`);
    return undefined;
  }

  protected oneOf(value: Value, place: Place, allowed: string[]): string | undefined {
    if (value.kind === 'scalar' && typeof value.value === 'string' && allowed.includes(value.value)) return value.value;
    this.problem({ ...place, line: value.line }, `must be one of ${allowed.join(', ')}; got ${describe(value)}`);
    return undefined;
  }

  protected required<T>(
    map: Extract<Value, { kind: 'map' }>,
    place: Place,
    key: string,
    read: (entry: Value, at: Place) => T,
  ): T | undefined {
    const entry = map.entries.get(key);
    if (entry === undefined) {
      this.problem({ ...place, line: map.line }, `\`${key}\` is required`);
      return undefined;
    }
    return read(entry, { ...place, line: entry.line, path: `${place.path}.${key}` });
  }

  protected onlyKeys(map: Extract<Value, { kind: 'map' }>, place: Place, keys: string[]): void {
    for (const [key, entry] of map.entries) {
      if (!keys.includes(key))
        this.problem({ ...place, line: entry.line, path: `${place.path}.${key}` }, `unknown key; allowed: ${keys.join(', ')}`);
    }
  }

  protected problem(place: Place, message: string): void {
    this.problems.push(this.format(place, message));
  }

  protected warn(place: Place, message: string): void {
    this.warnings.push(this.format(place, message));
  }

  protected format(place: Place, message: string): string {
    const where = [place.rule, place.path].filter(Boolean).join(': ');
    return `${this.file}:${place.line}: ${where ? `${where}: ` : ''}${message}`;
  }
}

/**
 * Where a quoted value that is never closed opens (an offset into `text`), or undefined. YAML reports that mistake at
 * the end of the file, where the value's missing quote would have been, not where it is.
 */
export function unclosedQuoteAt(text: string): number | undefined {
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'double-quoted-scalar' || type === 'single-quoted-scalar') {
      const quote = token[0] as string;
      const body = token.trimEnd();
      const escaped = type === 'double-quoted-scalar' && /(^|[^\\])(\\\\)*\\"$/.test(body);
      if (body.length < 2 || !body.endsWith(quote) || escaped) return offset;
    }
    // The lexer's marks of a document, a flow's end and a scalar (CST.DOCUMENT, …) are not in the text.
    if (token !== CST.DOCUMENT && token !== CST.FLOW_END && token !== CST.SCALAR) offset += token.length;
  }
  return undefined;
}

/**
 * How Ruby's `Float#to_s` writes a YAML float that a policy uses as a name: `16.0` stays `16.0` (JavaScript would
 * write `16`, another milestone), `1.10` is `1.1`, and beyond 1e16 or below 1e-4 it switches to `1.0e+16`.
 */
export function rubyFloatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e16 || magnitude < 1e-4)) {
    const [mantissa = '', exponent = ''] = value.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  if (Number.isInteger(value)) return `${Object.is(value, -0) ? '-0' : String(value)}.0`;
  return String(value);
}

export function describe(value: Value): string {
  if (value.kind === 'map') return 'a mapping';
  if (value.kind === 'seq') return 'a list';
  return JSON.stringify(value.value) ?? String(value.value);
}
