import type { AutoflowConfig } from './schema.js';

export { DATABASE_FORMS, parseDatabaseUrl, type DatabaseConfig } from './database.js';
export { DEFAULT_CONFIG_FILE, loadConfig, type LoadConfigOptions, type ResolvedConfig } from './load.js';
export type { ConfigFlags } from './settings.js';
export { LOG_LEVELS, type ActivityContext, type ActivityFunction, type AutoflowConfig } from './schema.js';

/**
 * Types the default export of `autoflow.config.ts`; it returns its argument unchanged.
 *
 * @example
 * export default defineConfig({
 *   port: 9000,
 *   secrets: { SLACK_WEBHOOK: 'https://hooks.slack.com/…' },
 *   activities: { async notify(args, { idempotencyKey }) { … } },
 * });
 */
export function defineConfig(config: AutoflowConfig): AutoflowConfig {
  return config;
}
