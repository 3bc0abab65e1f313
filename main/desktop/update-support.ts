import { execFile } from 'node:child_process';
import path from 'node:path';

/** How a macOS app bundle is signed, as `codesign --display` reports it. */
export type MacSignature = 'developer-id' | 'ad-hoc' | 'other';

/**
 * Reads `codesign --display --verbose=2` output (which codesign writes to stderr). A release
 * signed with a Developer ID names it as its first authority; an ad-hoc signature (what the
 * release workflow makes without a certificate) says `Signature=adhoc` and has no authority.
 */
export function macSignatureOf(codesignOutput: string): MacSignature {
  if (/^Authority=Developer ID Application: /m.test(codesignOutput)) return 'developer-id';
  return /^Signature=adhoc$/m.test(codesignOutput) ? 'ad-hoc' : 'other';
}

/** The .app bundle a macOS executable belongs to (…/Perch.app/Contents/MacOS/Perch → …/Perch.app). */
export const macAppBundle = (execPath: string): string => path.posix.dirname(path.posix.dirname(path.posix.dirname(execPath)));

export type RunCodesign = (bundle: string) => Promise<string>;

const runCodesign: RunCodesign = (bundle) =>
  new Promise((resolve, reject) => {
    execFile('/usr/bin/codesign', ['--display', '--verbose=2', bundle], { timeout: 10_000 }, (error, stdout, stderr) => {
      // An unsigned bundle makes codesign exit 1 ("code object is not signed at all"): still an answer.
      const output = `${stdout}${stderr}`;
      if (error && !/not signed/.test(output)) reject(new Error(error.message, { cause: error }));
      else resolve(output);
    });
  });

/** Said in Settings when an installed macOS build cannot update itself. */
export const UNSIGNED_MAC_NOTE =
  'Updates are off in this copy of Perch: it is not signed with a Developer ID, so macOS would refuse to install an update over it. Download new versions from the Releases page.';

export interface UpdateSupport {
  enabled: boolean;
  /** Why updates are off, when a person should know. */
  note?: string;
}

/**
 * Whether this copy of Perch can update itself. A development run has nothing to update. On
 * macOS, Squirrel.Mac installs an update only if it satisfies the running app's designated
 * requirement; an ad-hoc signature's requirement is its own code hash, which no other build
 * matches (and the keychain would ask again after each one), so only a Developer ID build
 * updates. When codesign cannot say, the updater stays on and its own errors are logged.
 */
export async function updateSupport(options: {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  execPath: string;
  codesign?: RunCodesign;
  log?: (message: string) => void;
}): Promise<UpdateSupport> {
  if (!options.isPackaged) return { enabled: false };
  if (options.platform !== 'darwin') return { enabled: true };
  try {
    const signature = macSignatureOf(await (options.codesign ?? runCodesign)(macAppBundle(options.execPath)));
    return signature === 'developer-id' ? { enabled: true } : { enabled: false, note: UNSIGNED_MAC_NOTE };
  } catch (error) {
    options.log?.(`Could not read this app's signature (${(error as Error).message}); updates stay on.`);
    return { enabled: true };
  }
}
