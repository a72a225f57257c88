/** Where the runtime keeps its state, parsed from `--db` / `AUTOFLOW_DB` / the config file's `db`. */
export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'memory' } | { kind: 'postgres'; url: string };

/** The accepted forms, as error messages state them. */
export const DATABASE_FORMS = 'sqlite:PATH, memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE';

/**
 * Parses a database URL. A relative SQLite path is returned as given: the loader resolves it
 * against the folder of whatever declared it (the working directory, or the config file's folder).
 * Returns undefined when `value` has none of the accepted forms.
 *
 * @example parseDatabaseUrl('sqlite:./data/autoflow.db') // { kind: 'sqlite', path: './data/autoflow.db' }
 */
export function parseDatabaseUrl(value: string): DatabaseConfig | undefined {
  if (value === 'memory:') return { kind: 'memory' };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    return path.trim() === '' ? undefined : { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\/./.test(value) && URL.canParse(value)) return { kind: 'postgres', url: value };
  return undefined;
}
