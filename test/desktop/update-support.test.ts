import { describe, expect, it, vi } from 'vitest';
import { macAppBundle, macSignatureOf, UNSIGNED_MAC_NOTE, updateSupport } from '../../main/desktop/update-support.js';

/** `codesign --display --verbose=2 Perch.app` for a release signed with a Developer ID. */
const DEVELOPER_ID = `Executable=/Applications/Perch.app/Contents/MacOS/Perch
Identifier=app.perch.desktop
Format=app bundle with Mach-O thin (arm64)
CodeDirectory v=20500 size=1234 flags=0x10000(runtime) hashes=27+7 location=embedded
Signature size=9000
Authority=Developer ID Application: Jane Doe (ABCDE12345)
Authority=Developer ID Certification Authority
Authority=Apple Root CA
Timestamp=1 Jan 2026 at 10:00:00
Info.plist entries=30
TeamIdentifier=ABCDE12345
Runtime Version=14.0.0
Sealed Resources version=2 rules=13 files=40
Internal requirements count=1 size=180
`;

/** …and for the release workflow's build without a certificate (`-c.mac.identity=-`). */
const AD_HOC = `Executable=/Applications/Perch.app/Contents/MacOS/Perch
Identifier=app.perch.desktop
Format=app bundle with Mach-O thin (arm64)
CodeDirectory v=20400 size=1234 flags=0x2(adhoc) hashes=27+7 location=embedded
Signature=adhoc
Info.plist entries=30
TeamIdentifier=not set
Sealed Resources version=2 rules=13 files=40
Internal requirements count=0 size=12
`;

const mac = { isPackaged: true, platform: 'darwin' as const, execPath: '/Applications/Perch.app/Contents/MacOS/Perch' };

describe('macSignatureOf', () => {
  it('recognises a Developer ID signature, an ad-hoc one, and anything else', () => {
    expect(macSignatureOf(DEVELOPER_ID)).toBe('developer-id');
    expect(macSignatureOf(AD_HOC)).toBe('ad-hoc');
    expect(macSignatureOf('/Applications/Perch.app: code object is not signed at all\n')).toBe('other');
    expect(macSignatureOf(DEVELOPER_ID.replace('Developer ID Application', 'Apple Development'))).toBe('other');
  });
});

describe('updateSupport', () => {
  it('finds the bundle the executable belongs to', () => {
    expect(macAppBundle('/Applications/Perch.app/Contents/MacOS/Perch')).toBe('/Applications/Perch.app');
  });

  it('keeps updates on for a macOS build signed with a Developer ID', async () => {
    const codesign = vi.fn(() => Promise.resolve(DEVELOPER_ID));
    expect(await updateSupport({ ...mac, codesign })).toEqual({ enabled: true });
    expect(codesign).toHaveBeenCalledWith('/Applications/Perch.app');
  });

  it('turns updates off for an ad-hoc signed macOS build, and says why and what to do', async () => {
    const support = await updateSupport({ ...mac, codesign: () => Promise.resolve(AD_HOC) });
    expect(support).toEqual({ enabled: false, note: UNSIGNED_MAC_NOTE });
    expect(support.note).toContain('Developer ID');
    expect(support.note).toContain('Releases page');
  });

  it('turns updates off for an unsigned macOS build', async () => {
    const support = await updateSupport({ ...mac, codesign: () => Promise.resolve('code object is not signed at all') });
    expect(support.enabled).toBe(false);
  });

  it('leaves updates on, and logs, when the signature cannot be read', async () => {
    const log = vi.fn();
    const support = await updateSupport({ ...mac, codesign: () => Promise.reject(new Error('spawn ENOENT')), log });
    expect(support).toEqual({ enabled: true });
    expect(log).toHaveBeenCalledWith(expect.stringContaining('spawn ENOENT'));
  });

  it('updates installed Windows and Linux builds without asking codesign', async () => {
    const codesign = vi.fn(() => Promise.resolve(AD_HOC));
    for (const platform of ['win32', 'linux'] as const) {
      expect(await updateSupport({ isPackaged: true, platform, execPath: '/opt/Perch/perch', codesign })).toEqual({
        enabled: true,
      });
    }
    expect(codesign).not.toHaveBeenCalled();
  });

  it('has nothing to update in a development run, and nothing to say about it', async () => {
    expect(await updateSupport({ ...mac, isPackaged: false, codesign: () => Promise.resolve(DEVELOPER_ID) })).toEqual({
      enabled: false,
    });
  });
});
