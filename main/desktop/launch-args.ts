import { HIDDEN_ARG } from './autostart.js';

/** What a launch of the app asks for, from its command line (a second launch forwards its own). */
export interface LaunchRequest {
  /** `--quick-ask`: show quick ask (a desktop-environment shortcut can bind this where global shortcuts fail). */
  quickAsk: boolean;
  /** `--hidden`: start in the tray only (used by the login item when "start hidden" is on). */
  hidden: boolean;
}

export function parseLaunchArgs(argv: readonly string[]): LaunchRequest {
  return { quickAsk: argv.includes('--quick-ask'), hidden: argv.includes(HIDDEN_ARG) };
}
