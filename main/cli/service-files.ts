/**
 * The files that make `perch serve` a login service: a systemd user unit, a launchd agent and a
 * Task Scheduler task. Pure functions of what to run, so each can be read and checked in tests on
 * any OS.
 */

/** What the service manager runs. Never holds a secret: these files are readable by others. */
export interface ServiceDefinition {
  /** The node executable, absolute. */
  node: string;
  /** This installation's `bin/perch.js`, absolute. */
  entry: string;
  /** Arguments after `serve` (`--data-dir DIR` when the person chose one). */
  serveArgs: string[];
  /** Variables the service must carry (PERCH_DATA_DIR); never ANTHROPIC_API_KEY. */
  environment: Record<string, string>;
  /** The data folder; launchd writes the service's output into its `logs/` folder. */
  dataDir: string;
}

export const SYSTEMD_UNIT = 'perch.service';
export const LAUNCHD_LABEL = 'app.perch.service';
export const WINDOWS_TASK = 'Perch';

/**
 * How long a service manager waits after SIGTERM before killing: serve lets answers in flight
 * finish for up to 10 s, then takes up to 1 s more to flush; the rest is headroom for a busy machine.
 */
export const STOP_TIMEOUT_SECONDS = 30;

/** Where launchd sends the service's stdout and stderr, inside the data folder. */
export const launchdLogFiles = { stdout: 'service.out.log', stderr: 'service.err.log' } as const;

function refuseControlCharacters(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(
      `${what} contains a line break or control character, which a service definition cannot hold: ${JSON.stringify(value)}`,
    );
  }
}

/** Specifiers (`%h`) are expanded everywhere in a unit file, even inside quotes. */
const escapeSpecifiers = (value: string): string => value.replaceAll('%', '%%');

/**
 * One word of a systemd command line: bare when it is plain, otherwise double-quoted with C-style
 * escapes; `%` and `$` are doubled because systemd expands specifiers and variables even in quotes.
 */
export function systemdQuote(word: string): string {
  refuseControlCharacters(word, 'A path or argument');
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  const escaped = word.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('$', '$$$$');
  return `"${escapeSpecifiers(escaped)}"`;
}

/** One `Environment=` assignment: quoted whole (values may hold spaces); `$` has no meaning there. */
function systemdEnvironment(name: string, value: string): string {
  refuseControlCharacters(value, name);
  const escaped = `${name}=${value}`.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  return `"${escapeSpecifiers(escaped)}"`;
}

/** `~/.config/systemd/user/perch.service`. */
export function systemdUnit(definition: ServiceDefinition): string {
  const command = [definition.node, definition.entry, 'serve', ...definition.serveArgs].map(systemdQuote).join(' ');
  return [
    '# Written by perch service install; perch service uninstall removes it.',
    '[Unit]',
    'Description=Perch: Claude, always at hand (local API and web UI)',
    // A service that cannot start (its port taken by another program) gives up after a few
    // tries instead of restarting forever.
    'StartLimitIntervalSec=120',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${command}`,
    ...Object.entries(definition.environment).map(([name, value]) => `Environment=${systemdEnvironment(name, value)}`),
    'Restart=on-failure',
    'RestartSec=5',
    // SIGTERM is serve's graceful stop: answers in flight finish, then it exits 0 (no restart).
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_SECONDS}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

export function escapeXml(text: string): string {
  refuseControlCharacters(text, 'A path or argument');
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** `~/Library/LaunchAgents/app.perch.service.plist`. */
export function launchdPlist(definition: ServiceDefinition, logsDir: string): string {
  const string = (value: string): string => `<string>${escapeXml(value)}</string>`;
  const args = [definition.node, definition.entry, 'serve', ...definition.serveArgs];
  const environment = Object.entries(definition.environment);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by perch service install; perch service uninstall removes it. -->',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${string(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args.map((arg) => `    ${string(arg)}`),
    '  </array>',
  ];
  if (environment.length > 0) {
    lines.push('  <key>EnvironmentVariables</key>', '  <dict>');
    for (const [name, value] of environment) lines.push(`    <key>${escapeXml(name)}</key>`, `    ${string(value)}`);
    lines.push('  </dict>');
  }
  lines.push(
    '  <key>RunAtLoad</key>',
    '  <true/>',
    // Restart when it fails; a clean exit (a graceful stop) stays stopped.
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>10</integer>',
    // launchd's SIGTERM-to-SIGKILL wait. No ProcessType Background: it throttles the CPU and
    // I/O of a process whose answers someone is waiting for.
    '  <key>ExitTimeOut</key>',
    `  <integer>${STOP_TIMEOUT_SECONDS}</integer>`,
    '  <key>StandardOutPath</key>',
    `  ${string(`${logsDir}/${launchdLogFiles.stdout}`)}`,
    '  <key>StandardErrorPath</key>',
    `  ${string(`${logsDir}/${launchdLogFiles.stderr}`)}`,
    '</dict>',
    '</plist>',
    '',
  );
  return lines.join('\n');
}

/**
 * One argument of a Windows command line, as CommandLineToArgvW (and so node) splits it:
 * quoted when needed, with the backslashes before a quote doubled.
 */
export function windowsQuote(arg: string): string {
  refuseControlCharacters(arg, 'A path or argument');
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let quoted = '"';
  let backslashes = 0;
  for (const char of arg) {
    if (char === '\\') {
      backslashes += 1;
      continue;
    }
    quoted += char === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${char}`;
    backslashes = 0;
  }
  return `${quoted}${'\\'.repeat(backslashes * 2)}"`;
}

/**
 * The Task Scheduler definition: at this user's logon, with their rights (no password stored,
 * no elevation), never stopped for running long or on battery, restarted if it fails to start.
 */
export function windowsTaskXml(definition: ServiceDefinition, userId: string): string {
  const args = [definition.entry, 'serve', ...definition.serveArgs].map(windowsQuote).join(' ');
  // Task Scheduler has no per-task environment: carried variables become arguments instead.
  const dataDirFromEnvironment = definition.environment.PERCH_DATA_DIR;
  const extra =
    dataDirFromEnvironment !== undefined && !definition.serveArgs.includes('--data-dir')
      ? ` --data-dir ${windowsQuote(dataDirFromEnvironment)}`
      : '';
  return [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>Perch: Claude, always at hand (local API and web UI). Written by perch service install.</Description>',
    `    <URI>\\${WINDOWS_TASK}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <LogonTrigger>',
    '      <Enabled>true</Enabled>',
    `      <UserId>${escapeXml(userId)}</UserId>`,
    '    </LogonTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    `      <UserId>${escapeXml(userId)}</UserId>`,
    '      <LogonType>InteractiveToken</LogonType>',
    '      <RunLevel>LeastPrivilege</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <AllowHardTerminate>true</AllowHardTerminate>',
    '    <StartWhenAvailable>false</StartWhenAvailable>',
    '    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>',
    '    <IdleSettings>',
    '      <StopOnIdleEnd>false</StopOnIdleEnd>',
    '      <RestartOnIdle>false</RestartOnIdle>',
    '    </IdleSettings>',
    '    <AllowStartOnDemand>true</AllowStartOnDemand>',
    '    <Enabled>true</Enabled>',
    '    <Hidden>false</Hidden>',
    '    <RunOnlyIfIdle>false</RunOnlyIfIdle>',
    '    <WakeToRun>false</WakeToRun>',
    // The default limit is 72 hours; a service runs until logoff.
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <Priority>7</Priority>',
    '    <RestartOnFailure>',
    '      <Interval>PT1M</Interval>',
    '      <Count>3</Count>',
    '    </RestartOnFailure>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${escapeXml(definition.node)}</Command>`,
    `      <Arguments>${escapeXml(args + extra)}</Arguments>`,
    `      <WorkingDirectory>${escapeXml(definition.dataDir)}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
}

/** schtasks /XML reads UTF-16 (little-endian, with a byte-order mark), matching the declaration. */
export function utf16le(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
