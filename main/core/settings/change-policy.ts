import { isDeepStrictEqual } from 'node:util';
import { PerchError } from '../errors.js';
import { DESKTOP_SETTINGS, SECRET_SETTINGS, SECURITY_SETTINGS, SPENDING_LIMITS } from './schema.js';

/**
 * Who asks for a change: the desktop app's own windows (which carry its per-launch secret) —
 * trusted like the CLI, which has file access — or any other client holding the token.
 */
export type ChangeOrigin = 'desktop' | 'client';

const isOneOf = (keys: object, key: string): boolean => Object.hasOwn(keys, key);
const isSecret = (key: string): boolean => (SECRET_SETTINGS as readonly string[]).includes(key);
const isDesktopSetting = (key: string): boolean => (DESKTOP_SETTINGS as readonly string[]).includes(key);

/** The command that changes a setting from a terminal (secrets are read from stdin, never typed on the line). */
export const cliCommandFor = (key: string): string => `npx perch config set ${key} ${isSecret(key) ? '-' : '<value>'}`;

/** Whether moving a spending limit from `from` to `to` lets clients spend more. */
function loosens(key: keyof typeof SPENDING_LIMITS, from: unknown, to: unknown): boolean {
  if (typeof from !== 'number' || typeof to !== 'number') return false;
  if (SPENDING_LIMITS[key].zeroMeansOff) {
    if (from === 0) return false;
    if (to === 0) return true;
  }
  return to > from;
}

const DESKTOP_ONLY =
  "can be changed only in the Perch desktop app or with the CLI on this machine (which can read Perch's files)";

export const desktopOnly = (what: string): PerchError => new PerchError('forbidden_setting', 403, `${what} ${DESKTOP_ONLY}.`);

/** A refused setting: named in the message, and in `fields` with a sentence for its form control. */
const settingRefused = (key: string, why: string): PerchError =>
  new PerchError('forbidden_setting', 403, `'${key}' ${why}.`, { fields: [{ field: key, message: `This setting ${why}.` }] });

/**
 * Why a client may not move `key` from `current` to `next`, or nothing when it may. A value
 * sent unchanged is no change (forms send every field); everything else follows
 * ARCHITECTURE.md's security model: security settings and desktop settings change only from the
 * desktop app or the CLI, and spending limits may be tightened by anyone but loosened only there.
 */
export function changeRefusal(key: string, current: unknown, next: unknown, origin: ChangeOrigin): PerchError | undefined {
  if (origin === 'desktop' || isDeepStrictEqual(current, next)) return undefined;
  if (isOneOf(SECURITY_SETTINGS, key)) {
    const reason = SECURITY_SETTINGS[key as keyof typeof SECURITY_SETTINGS];
    return settingRefused(
      key,
      `${reason}, so it changes only in the Perch desktop app or with ${cliCommandFor(key)} on this machine`,
    );
  }
  if (isDesktopSetting(key)) return settingRefused(key, DESKTOP_ONLY);
  if (isOneOf(SPENDING_LIMITS, key) && loosens(key as keyof typeof SPENDING_LIMITS, current, next)) {
    return settingRefused(
      key,
      `protects your spending: any client may lower it, but raising it or turning it off happens only in the Perch desktop app or with ${cliCommandFor(key)} on this machine`,
    );
  }
  return undefined;
}
