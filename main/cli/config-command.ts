import { checkAndSaveApiKey } from '../core/claude/key-check.js';
import { FileApiKeySource } from '../core/secrets.js';
import { isSecretSetting, maskSecrets, SettingsStore } from '../core/settings/settings-store.js';
import type { Settings } from '../core/settings/schema.js';
import { PerchError } from '../core/errors.js';
import type { Output } from './output.js';

/** The API key is set through `perch config` like any setting, but lives in its own file. */
export const API_KEY_SETTING = 'apiKey';

function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

export function configGet(dataDir: string, key: string | undefined, out: Output, env: NodeJS.ProcessEnv): void {
  const apiKeys = new FileApiKeySource(dataDir, env);
  const describeKey = (): string => {
    const origin = apiKeys.origin();
    return origin === 'environment' ? 'set (from ANTHROPIC_API_KEY)' : origin === 'stored' ? 'set' : 'not set';
  };
  if (key === API_KEY_SETTING) {
    out.stdout(describeKey());
    return;
  }
  const settings = new SettingsStore(dataDir, { env, onWarning: out.stderr });
  const setOrNot = (isSet: boolean): string => (isSet ? 'set' : 'not set');
  if (key === undefined) {
    out.stdout(formatValue({ apiKey: describeKey(), ...maskSecrets(settings.get() as Settings, setOrNot) }));
    return;
  }
  const value = settings.get(key);
  // Secrets are shown only as set or not set, like the API key.
  out.stdout(
    formatValue(
      isSecretSetting(key)
        ? setOrNot(value !== '')
        : key.includes('.')
          ? value
          : (maskSecrets({ ...(settings.get() as Settings) }, setOrNot) as unknown as Record<string, unknown>)[key],
    ),
  );
  const variable = settings.overriddenBy(key);
  if (variable) out.stderr(`note: ${variable} is set, so the running service uses ${env[variable]} instead.`);
}

export async function configSet(
  dataDir: string,
  key: string,
  value: string,
  out: Output,
  env: NodeJS.ProcessEnv,
  readStdin: () => Promise<string>,
): Promise<void> {
  if (key === API_KEY_SETTING) {
    // "-" reads the key from stdin, so it stays out of shell history and process lists.
    const apiKey = value === '-' ? (await readStdin()).trim() : value.trim();
    if (!apiKey)
      throw new PerchError('invalid_setting', 400, 'The API key is empty. Pass it as the value, or "-" to read it from stdin.');
    // Checked with the upstream the service uses, as Settings does: a key Anthropic refuses is not saved.
    const { claude } = new SettingsStore(dataDir, { env, onWarning: out.stderr }).current();
    const saved = await checkAndSaveApiKey(new FileApiKeySource(dataDir, env), apiKey, { upstreamUrl: claude.upstreamUrl });
    out.stdout(
      saved.verified
        ? 'apiKey saved and accepted by Anthropic (owner-only file in the data directory; it is never shown again).'
        : 'apiKey saved (owner-only file in the data directory; it is never shown again).',
    );
    if (saved.warning) out.stderr(`note: ${saved.warning}`);
    if (env.ANTHROPIC_API_KEY) out.stderr('note: ANTHROPIC_API_KEY is set and takes precedence while it is.');
    return;
  }
  const settings = new SettingsStore(dataDir, { env, onWarning: out.stderr });
  if (isSecretSetting(key)) {
    // Like the API key: "-" reads it from stdin, and it is never echoed.
    settings.set(key, value === '-' ? (await readStdin()).trim() : value.trim());
    out.stdout(`${key} saved (it is never shown again).`);
    return;
  }
  settings.setFromText(key, value);
  out.stdout(`${key} = ${formatValue(settings.get(key))}`);
  const variable = settings.overriddenBy(key);
  if (variable) out.stderr(`note: ${variable} is set and overrides this setting while it is.`);
}

export function configReset(dataDir: string, key: string, out: Output, env: NodeJS.ProcessEnv): void {
  if (key === API_KEY_SETTING) {
    new FileApiKeySource(dataDir, env).clear();
    out.stdout('apiKey removed.');
    return;
  }
  const settings = new SettingsStore(dataDir, { env, onWarning: out.stderr });
  settings.reset(key);
  out.stdout(`${key} = ${formatValue(settings.get(key))} (default)`);
}
