/** Command-line flags of `autoflow server`, as the CLI parsed them (values not yet checked). */
export interface ConfigFlags {
  port?: string | number;
  host?: string;
  db?: string;
  workflows?: string;
  config?: string;
  dev?: boolean;
  logLevel?: string;
  gitlabUrl?: string;
  publicUrl?: string;
  allowRemoteSimulatorSignIn?: boolean;
}

type Coerce = (text: string) => unknown;

// Strings that do not convert are passed on unchanged, so that the schema reports them with the
// expected form instead of this layer inventing a second set of messages.
const toInteger: Coerce = (text) => (/^-?\d+$/.test(text) ? Number(text) : text);
const toList: Coerce = (text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
const toBoolean: Coerce = (text) => {
  const lower = text.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  return text;
};

/** A key of the config file that a variable, and maybe a flag, can set too. */
export interface Setting {
  key: string;
  env: string;
  flag?: keyof ConfigFlags;
  coerce?: Coerce;
}

/** The keys that flags and environment variables can set; everything else comes from the file. */
export const SETTINGS: readonly Setting[] = [
  { key: 'port', flag: 'port', env: 'AUTOFLOW_PORT', coerce: toInteger },
  { key: 'host', flag: 'host', env: 'AUTOFLOW_HOST' },
  { key: 'db', flag: 'db', env: 'AUTOFLOW_DB' },
  { key: 'workflowsDir', flag: 'workflows', env: 'AUTOFLOW_WORKFLOWS' },
  { key: 'dev', flag: 'dev', env: 'AUTOFLOW_DEV', coerce: toBoolean },
  // No flag: a token on the command line is visible to every user of the machine in `ps`.
  { key: 'apiToken', env: 'AUTOFLOW_API_TOKEN' },
  { key: 'logLevel', flag: 'logLevel', env: 'AUTOFLOW_LOG_LEVEL' },
  { key: 'gitlabUrl', flag: 'gitlabUrl', env: 'AUTOFLOW_GITLAB_URL' },
  { key: 'gitlabToken', env: 'AUTOFLOW_GITLAB_TOKEN' },
  { key: 'gitlabUsername', env: 'AUTOFLOW_GITLAB_USERNAME' },
  { key: 'gitlabWebhookSecret', env: 'AUTOFLOW_GITLAB_WEBHOOK_SECRET' },
  { key: 'publicUrl', flag: 'publicUrl', env: 'AUTOFLOW_PUBLIC_URL' },
  {
    key: 'allowRemoteSimulatorSignIn',
    flag: 'allowRemoteSimulatorSignIn',
    env: 'AUTOFLOW_ALLOW_REMOTE_SIMULATOR_SIGN_IN',
    coerce: toBoolean,
  },
  { key: 'uiUsers', env: 'AUTOFLOW_UI_USERS', coerce: toList },
  { key: 'gitlabOAuthClientId', env: 'AUTOFLOW_GITLAB_OAUTH_CLIENT_ID' },
  { key: 'gitlabOAuthClientSecret', env: 'AUTOFLOW_GITLAB_OAUTH_CLIENT_SECRET' },
  { key: 'sessionSecret', env: 'AUTOFLOW_SESSION_SECRET' },
];

/** Names the config file (as `--config` does); no key of the file, which cannot name itself. */
export const CONFIG_FILE_VARIABLE = 'AUTOFLOW_CONFIG';

/** `AUTOFLOW_SECRET_<NAME>` sets the secret NAME. */
export const SECRET_PREFIX = 'AUTOFLOW_SECRET_';
