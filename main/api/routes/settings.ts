import { Router } from 'express';
import { PerchError, invalidRequest } from '../../core/errors.js';
import { DESKTOP_SETTINGS, SECURITY_SETTINGS, type Settings } from '../../core/settings/schema.js';
import { ENVIRONMENT_OVERRIDES, maskSecrets, secretsSet } from '../../core/settings/settings-store.js';
import { apiKeyRequest, settingsPatch } from '../schemas.js';
import { parseInput } from '../validation.js';
import { desktopOnly } from './auth.js';
import { methodNotAllowed, type RouteContext } from './context.js';

const isSecurity = (key: string): boolean => (SECURITY_SETTINGS as readonly string[]).includes(key);
const isDesktop = (key: string): boolean => (DESKTOP_SETTINGS as readonly string[]).includes(key);

/** Settings as the UI shows them: stored values, what overrides them, and what this client may change. */
export function settingsView(context: RouteContext, desktop: boolean): Record<string, unknown> {
  const { core } = context;
  const stored: Settings = core.settings.storedWithDefaults();
  // Secrets are write-only: their values never leave, only whether they are set.
  const hidden = (): string => '';
  const overridden = Object.fromEntries(
    Object.keys(ENVIRONMENT_OVERRIDES)
      .map((key) => [key, core.settings.overriddenBy(key)] as const)
      .filter(([, variable]) => variable !== undefined),
  );
  return {
    settings: maskSecrets(stored, hidden),
    effective: maskSecrets(core.currentSettings(), hidden),
    secrets: secretsSet(stored),
    api_key: { configured: core.apiKeys.get() !== undefined, source: core.apiKeys.origin() ?? null },
    overridden,
    editable: { security: desktop, desktop },
    // What a browser shows in place of a control it may not use.
    cli: Object.fromEntries(SECURITY_SETTINGS.map((key) => [key, `npx perch config set ${key} <value>`])),
  };
}

/** Reading and changing settings, and setting the API key (which can never be read back). */
export function settingsRoutes(context: RouteContext): Router {
  const { core } = context;
  const router = Router();
  router
    .route('/api/v1/settings')
    .get((_req, res) => {
      res.json(settingsView(context, res.locals.desktop === true));
    })
    .patch((req, res) => {
      const patch = parseInput(settingsPatch, req.body);
      const entries = Object.entries(patch).flatMap(([group, values]) =>
        Object.entries(values).map(([name, value]) => [`${group}.${name}`, value] as const),
      );
      if (entries.length === 0) throw invalidRequest('Send the settings to change, e.g. {"claude": {"maxTokens": 2048}}.');
      const desktop = res.locals.desktop === true;
      for (const [key] of entries) {
        if (isSecurity(key) && !desktop) {
          throw new PerchError(
            'forbidden_setting',
            403,
            `'${key}' decides who can reach Perch, so it changes only in the desktop app or with \`npx perch config set ${key} <value>\`.`,
          );
        }
        if (isDesktop(key) && !desktop) throw desktopOnly(`'${key}'`);
      }
      core.settings.setMany(entries);
      res.json(settingsView(context, desktop));
    })
    .all(methodNotAllowed('GET', 'PATCH'));

  router
    .route('/api/v1/settings/api-key')
    .put((req, res) => {
      const { api_key } = parseInput(apiKeyRequest, req.body);
      core.apiKeys.set(api_key);
      res.json({ configured: true, source: core.apiKeys.origin() ?? null });
    })
    .delete((_req, res) => {
      core.apiKeys.clear();
      res.json({ configured: core.apiKeys.get() !== undefined, source: core.apiKeys.origin() ?? null });
    })
    .all(methodNotAllowed('PUT', 'DELETE'));
  return router;
}
