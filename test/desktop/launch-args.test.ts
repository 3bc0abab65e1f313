import { describe, expect, it } from 'vitest';
import { HIDDEN_ARG } from '../../main/desktop/autostart.js';
import { parseLaunchArgs } from '../../main/desktop/launch-args.js';

describe('parseLaunchArgs', () => {
  it('asks for nothing special on a plain launch', () => {
    expect(parseLaunchArgs(['/opt/Perch/perch'])).toEqual({ quickAsk: false, hidden: false });
    expect(parseLaunchArgs([])).toEqual({ quickAsk: false, hidden: false });
  });

  it('shows quick ask for --quick-ask (the binding for desktops without global shortcuts)', () => {
    expect(parseLaunchArgs(['/opt/Perch/perch', '--quick-ask'])).toEqual({ quickAsk: true, hidden: false });
  });

  it('starts in the tray only for the login item’s hidden argument', () => {
    expect(HIDDEN_ARG).toBe('--hidden');
    expect(parseLaunchArgs(['/opt/Perch/perch', '--hidden'])).toEqual({ quickAsk: false, hidden: true });
  });

  it('reads both flags wherever they are among other arguments (a second launch forwards its own argv)', () => {
    expect(
      parseLaunchArgs(['/usr/bin/electron', '/src/perch', '--no-sandbox', '--hidden', '--enable-features=X', '--quick-ask']),
    ).toEqual({ quickAsk: true, hidden: true });
  });

  it('matches whole arguments only', () => {
    expect(parseLaunchArgs(['perch', '--quick-ask=1', '--hidden-files', 'quick-ask', '-hidden'])).toEqual({
      quickAsk: false,
      hidden: false,
    });
  });
});
