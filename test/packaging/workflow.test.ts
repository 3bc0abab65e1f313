import { describe, expect, it } from 'vitest';
import { fromRoot, readYaml } from './electron-builder.js';

interface Step {
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  'runs-on': string;
  strategy?: { matrix: { include: { os: string; platform: string }[] } };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push: { tags: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = readYaml(fromRoot('.github/workflows/release.yml')) as Workflow;
const packaging = workflow.jobs.package!;
const runs = packaging.steps.map((step) => step.run ?? '');
const packageStep = packaging.steps.find((step) => step.run?.includes('electron-builder "$PLATFORM" --publish always'));

describe('the release workflow', () => {
  it('runs when a version tag is pushed and may write releases', () => {
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(workflow.permissions).toEqual({ contents: 'write' });
  });

  it('packages on macOS, Windows and Linux, each for its own platform', () => {
    const matrix = packaging.strategy?.matrix.include ?? [];
    expect(matrix.map(({ os, platform }) => `${os} ${platform}`).sort()).toEqual([
      'macos-latest --mac',
      'ubuntu-latest --linux',
      'windows-latest --win',
    ]);
    expect(packaging['runs-on']).toBe('${{ matrix.os }}');
  });

  it('installs with Node 20 and the npm cache, then builds, then packages', () => {
    const setupNode = packaging.steps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toMatchObject({ 'node-version': 20, cache: 'npm' });
    const order = ['npm ci', 'npm run build', 'npx electron-builder'].map((command) =>
      runs.findIndex((run) => run.includes(command)),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("gives the macOS builds Claude Code's agent for both architectures, at the installed SDK's version", () => {
    const step = packaging.steps.find((each) => each.run?.includes('claude-agent-sdk-darwin-'));
    expect(step).toMatchObject({ if: "runner.os == 'macOS'" });
    expect(step?.run).toContain('for arch in arm64 x64');
    expect(step?.run).toContain("require('@anthropic-ai/claude-agent-sdk/package.json').version");
    const order = ['npm run build', 'claude-agent-sdk-darwin-', 'npx electron-builder'].map((command) =>
      runs.findIndex((run) => run.includes(command)),
    );
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("publishes with the workflow's own token, to this repository", () => {
    expect(packageStep?.env?.PLATFORM).toBe('${{ matrix.platform }}');
    expect(packageStep?.run).toContain('npx electron-builder "$PLATFORM" --publish always');
    expect(packageStep?.run).toContain('"-c.publish.owner=$GITHUB_REPOSITORY_OWNER"');
    expect(packaging.env?.GH_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
  });

  it('signs and notarizes from the standard secrets, passing on only those that are set', () => {
    const names = ['CSC_LINK', 'CSC_KEY_PASSWORD', 'APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID', 'WIN_CSC_LINK'];
    for (const name of names) {
      expect(packageStep?.env?.[`SECRET_${name}`]).toBe(`\${{ secrets.${name} }}`);
      expect(packageStep?.run).toContain(name);
    }
    expect(packageStep?.run).toContain('if [ -n "${!secret}" ]; then export "$name=${!secret}"; fi');
  });

  it('builds unsigned when there is no certificate', () => {
    expect(packageStep?.run).toContain('export CSC_IDENTITY_AUTO_DISCOVERY=false');
    expect(packageStep?.run).toContain('-c.mac.identity=-');
  });

  it('smoke-tests a packaged build of the app before it uploads anything', () => {
    const smoke = packaging.steps.findIndex((step) => step.run?.includes('npm run test:smoke'));
    const upload = packaging.steps.findIndex((step) => step.run?.includes('--publish always'));
    expect(smoke).toBeGreaterThan(runs.findIndex((run) => run.includes('npm run build')));
    expect(smoke).toBeLessThan(upload);
    const step = packaging.steps[smoke];
    expect(step?.env).toMatchObject({ PERCH_SMOKE_REQUIRED: '1', PERCH_SMOKE_PACKAGED: expect.any(String) });
    expect(step?.run).toContain('npx electron-builder --dir --publish never');
    expect(step?.run).toContain('-c.directories.output=$PERCH_SMOKE_PACKAGED');
    expect(step?.run).toContain('xvfb-run -a npm run test:smoke');
  });

  it('keeps Node’s inspector fused off in what it uploads (only the smoke build turns it on, for Playwright)', () => {
    expect(packageStep?.run).not.toContain('enableNodeCliInspectArguments');
    const smoke = packaging.steps.find((step) => step.run?.includes('npm run test:smoke'));
    expect(smoke?.run).toContain('-c.electronFuses.enableNodeCliInspectArguments=true');
  });

  it('gives Linux a display and the user namespaces Chromium’s sandbox needs, before the smoke test', () => {
    const linux = packaging.steps.findIndex((step) => step.if === "runner.os == 'Linux'" && step.run?.includes('xvfb'));
    expect(linux).toBeGreaterThanOrEqual(0);
    expect(packaging.steps[linux]?.run).toContain('kernel.apparmor_restrict_unprivileged_userns=0');
    expect(linux).toBeLessThan(packaging.steps.findIndex((step) => step.run?.includes('npm run test:smoke')));
  });

  it('publishes the draft release only after every platform has uploaded', () => {
    expect(packaging.needs).toBe('draft');
    expect(workflow.jobs.publish?.needs).toBe('package');
    expect(workflow.jobs.publish?.steps.map((step) => step.run).join('\n')).toContain('--draft=false');
  });
});

interface CiWorkflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job & { container?: string }>;
}

const ci = readYaml(fromRoot('.github/workflows/ci.yml')) as CiWorkflow;
const desktop = ci.jobs.desktop!;
const desktopRuns = desktop.steps.map((step) => step.run ?? '');
const position = (command: string): number => desktopRuns.findIndex((run) => run.includes(command));

describe('the CI workflow', () => {
  it('runs on every push and pull request, reading the repository only', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.permissions).toEqual({ contents: 'read' });
  });

  it('runs the whole suite as .ci/run does, on Debian', () => {
    const suite = ci.jobs.suite!;
    expect(suite.container).toMatch(/^node:20-bookworm/);
    expect(suite.steps.map((step) => step.run ?? '').join('\n')).toContain('.ci/run');
  });

  it('tests the desktop app on macOS, Windows and Linux runners', () => {
    const matrix = (desktop.strategy?.matrix.include ?? []) as Array<{ os: string }>;
    expect(matrix.map(({ os }) => os).sort()).toEqual(['macos-latest', 'ubuntu-latest', 'windows-latest']);
    expect(desktop['runs-on']).toBe('${{ matrix.os }}');
  });

  it("installs Electron's binary, tests, then smoke-tests the built app and a packaged --dir build", () => {
    const order = [
      'npm ci',
      'npx install-electron',
      'npx vitest run',
      'npx electron-builder install-app-deps',
      'npm run test:smoke',
      'npx electron-builder --dir',
    ].map(position);
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const smokes = desktop.steps.filter((step) => step.run?.includes('npm run test:smoke'));
    expect(smokes).toHaveLength(2);
    expect(smokes[0]?.env?.PERCH_SMOKE_PACKAGED).toBeUndefined();
    expect(smokes[1]?.env?.PERCH_SMOKE_PACKAGED).toBeTruthy();
    expect(desktopRuns.findIndex((run) => run.includes('npx electron-builder --dir'))).toBeLessThan(
      desktop.steps.indexOf(smokes[1]!),
    );
    for (const smoke of smokes) {
      // A smoke test that cannot run fails here instead of skipping.
      expect(smoke.env?.PERCH_SMOKE_REQUIRED).toBe('1');
      expect(smoke.run).toContain('xvfb-run -a npm run test:smoke');
    }
  });

  it('runs npm test’s checks on each OS, leaving the browser tests to the Debian suite', () => {
    const test = desktop.steps.find((step) => step.run?.includes('npx vitest run'));
    expect(test?.run).toContain('npm run typecheck && npm run lint && npm run build');
    expect(test?.run).toContain('--exclude "test/ui/**"');
  });

  it('installs with Node 22 (Electron 45’s installer needs it) and keeps Windows checkouts LF', () => {
    const setupNode = desktop.steps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toMatchObject({ 'node-version': 22, cache: 'npm' });
    expect(desktop.steps[0]?.run).toBe('git config --global core.autocrlf false');
  });
});
