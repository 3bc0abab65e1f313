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
const packageStep = packaging.steps.find((step) => step.run?.includes('electron-builder'));

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

  it('publishes the draft release only after every platform has uploaded', () => {
    expect(packaging.needs).toBe('draft');
    expect(workflow.jobs.publish?.needs).toBe('package');
    expect(workflow.jobs.publish?.steps.map((step) => step.run).join('\n')).toContain('--draft=false');
  });
});
