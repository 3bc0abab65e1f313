import { Router } from 'express';
import { checkAndSaveApiKey } from '../../core/claude/key-check.js';
import { PerchError, invalidRequest } from '../../core/errors.js';
import { changeRefusal, cliCommandFor } from '../../core/settings/change-policy.js';
import { SECURITY_SETTINGS, SPENDING_LIMITS, type Settings } from '../../core/settings/schema.js';
import { ENVIRONMENT_OVERRIDES, maskSecrets, secretsSet } from '../../core/settings/settings-store.js';
import { apiKeyRequest, settingsPatch } from '../schemas.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, originOf, type RouteContext } from './context.js';

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
    // What a browser shows in place of a control it may not use (or may only tighten).
    cli: Object.fromEntries(
      [...Object.keys(SECURITY_SETTINGS), ...Object.keys(SPENDING_LIMITS)].map((key) => [key, cliCommandFor(key)]),
    ),
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
      // Every refused key at once, so a form marks each of them.
      const refusals = entries.flatMap(([key, value]) => changeRefusal(key, core.settings.get(key), value, originOf(res)) ?? []);
      if (refusals.length > 0) {
        throw new PerchError('forbidden_setting', 403, refusals.map((refusal) => refusal.message).join(' '), {
          fields: refusals.flatMap((refusal) => refusal.fields ?? []),
        });
      }
      core.settings.setMany(entries);
      res.json(settingsView(context, res.locals.desktop === true));
    })
    .all(methodNotAllowed('GET', 'PATCH'));

  router
    .route('/api/v1/settings/api-key')
    .put(async (req, res) => {
      const { api_key } = parseInput(apiKeyRequest, req.body);
      // Checked with the upstream first: a key Anthropic refuses is never saved (400 invalid_api_key).
      const saved = await checkAndSaveApiKey(core.apiKeys, api_key, { upstreamUrl: core.currentSettings().claude.upstreamUrl });
      res.json({ configured: true, source: core.apiKeys.origin() ?? null, ...saved });
    })
    .delete((_req, res) => {
      core.apiKeys.clear();
      res.json({ configured: core.apiKeys.get() !== undefined, source: core.apiKeys.origin() ?? null });
    })
    .all(methodNotAllowed('PUT', 'DELETE'));
  return router;
}
