import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentEnvironment } from '../../main/core/tasks/agent-environment.js';
import { AgentTokens } from '../../main/core/tasks/agent-tokens.js';
import { eventsOfMessage, MAX_EVENT_CONTENT, searchableText, textDeltaOf } from '../../main/core/tasks/task-events.js';
import { approvalTimeoutMinutes, JOB_APPROVAL_TIMEOUT_MINUTES } from '../../main/core/tasks/task-service.js';
import { WorkspaceStore } from '../../main/core/tasks/workspaces.js';
import { defaultSettings } from '../../main/core/settings/schema.js';
import { openDatabase } from '../../main/core/storage/database.js';
import { temporaryDataDir } from '../helpers/perch.js';
import { projectFolder } from '../helpers/tasks.js';

describe('events made from the agent’s messages', () => {
  it('turns an assistant message into text and tool calls, and a user message into tool results', () => {
    expect(
      eventsOfMessage({
        type: 'assistant',
        parent_tool_use_id: null,
        message: {
          content: [
            { type: 'thinking', thinking: 'hmm' },
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/w/a.ts' } },
          ],
        },
      }),
    ).toEqual([
      { type: 'text', data: { text: 'Let me look.' } },
      { type: 'tool_use', data: { id: 'toolu_1', name: 'Read', input: { file_path: '/w/a.ts' } } },
    ]);
    expect(
      eventsOfMessage({
        type: 'user',
        parent_tool_use_id: null,
        message: {
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: 'line 1' }, { type: 'image' }],
              is_error: false,
            },
          ],
        },
      }),
    ).toEqual([{ type: 'tool_result', data: { tool_use_id: 'toolu_1', content: 'line 1\n[image]', is_error: false } }]);
  });

  it('keeps subagents’ inner work, system chatter and unknown messages out of the transcript, without throwing', () => {
    expect(
      eventsOfMessage({
        type: 'assistant',
        parent_tool_use_id: 'toolu_9',
        message: { content: [{ type: 'text', text: 'inner' }] },
      }),
    ).toEqual([]);
    expect(eventsOfMessage({ type: 'system', subtype: 'status', status: 'requesting' })).toEqual([]);
    expect(eventsOfMessage({ type: 'something_new', whatever: true })).toEqual([]);
    expect(eventsOfMessage(null)).toEqual([]);
    expect(eventsOfMessage({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 2, error: 'overloaded' })).toEqual([
      { type: 'retry', data: { attempt: 1, max_retries: 2, error: 'overloaded' } },
    ]);
  });

  it('clips a huge tool output in the event (the raw message keeps it all)', () => {
    const [event] = eventsOfMessage({
      type: 'user',
      message: { content: [{ type: 'tool_result', tool_use_id: 't', content: 'x'.repeat(MAX_EVENT_CONTENT + 10) }] },
    });
    expect((event?.data as { content: string }).content).toMatch(/… \(10 more characters\)$/);
  });

  it('streams text deltas live, and indexes commands and files for search', () => {
    expect(
      textDeltaOf({
        type: 'stream_event',
        parent_tool_use_id: null,
        event: { type: 'content_block_delta', delta: { type: 'text_delta', text: 'Hel' } },
      }),
    ).toEqual({ type: 'text_delta', data: { text: 'Hel' } });
    expect(
      textDeltaOf({ type: 'stream_event', event: { type: 'content_block_delta', delta: { type: 'input_json_delta' } } }),
    ).toBeUndefined();
    expect(
      searchableText({
        type: 'tool_use',
        data: { id: 't', name: 'Bash', input: { command: 'npm test', description: 'run tests' } },
      }),
    ).toBe('Bash npm test run tests');
  });
});

describe('the agent’s environment', () => {
  const built = agentEnvironment({
    inherited: {
      PATH: '/usr/bin',
      HOME: '/home/ada',
      LANG: 'en_GB.UTF-8',
      ANTHROPIC_API_KEY: 'sk-ant-secret',
      PERCH_UPSTREAM_URL: 'https://gateway',
      NODE_OPTIONS: '--require evil.js',
      AWS_SECRET_ACCESS_KEY: 'aws',
      ANTHROPIC_BASE_URL: 'http://elsewhere',
    },
    relayUrl: 'http://127.0.0.1:8080',
    agentToken: 'perch_agent_x',
    configDir: '/data/claude',
    tempDir: '/data/tasks/tmp/t1',
    version: '1.2.3',
  });

  it('is built from an allowlist: what a shell needs, never Perch’s secrets or settings', () => {
    expect(built).toMatchObject({ PATH: '/usr/bin', HOME: '/home/ada', LANG: 'en_GB.UTF-8' });
    for (const name of ['ANTHROPIC_API_KEY', 'PERCH_UPSTREAM_URL', 'NODE_OPTIONS', 'AWS_SECRET_ACCESS_KEY'])
      expect(built).not.toHaveProperty(name);
  });

  it('points the agent at Perch’s relay with its own credential, its own config folder and temp folder, quietly', () => {
    expect(built).toMatchObject({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080',
      ANTHROPIC_AUTH_TOKEN: 'perch_agent_x',
      CLAUDE_CONFIG_DIR: '/data/claude',
      TMPDIR: '/data/tasks/tmp/t1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      CLAUDE_CODE_MAX_RETRIES: '2',
    });
  });
});

describe('how long a permission request waits for a person', () => {
  it('follows tasks.approvalTimeoutMinutes, fractions included', () => {
    expect(approvalTimeoutMinutes(0.01, 'api')).toBe(0.01);
    expect(approvalTimeoutMinutes(5, 'job')).toBe(5);
    expect(approvalTimeoutMinutes(600, 'ui')).toBe(600);
  });

  it('waits forever with 0 for a task a person started, but never for a job’s task (the default 60 minutes)', () => {
    for (const source of ['api', 'cli', 'ui'] as const) expect(approvalTimeoutMinutes(0, source)).toBe(0);
    expect(approvalTimeoutMinutes(0, 'job')).toBe(JOB_APPROVAL_TIMEOUT_MINUTES);
    expect(JOB_APPROVAL_TIMEOUT_MINUTES).toBe(defaultSettings().tasks.approvalTimeoutMinutes);
  });
});

describe('agent credentials', () => {
  it('name their task until revoked, and nothing else passes', () => {
    const tokens = new AgentTokens();
    const token = tokens.issue('task_1');
    expect(tokens.taskOf(token)).toBe('task_1');
    expect(tokens.taskOf(`${token}x`)).toBeUndefined();
    expect(tokens.taskOf('perch_the_main_token')).toBeUndefined();
    tokens.revoke(token);
    expect(tokens.taskOf(token)).toBeUndefined();
  });
});

describe('workspaces', () => {
  const store = (): { workspaces: WorkspaceStore; dataDir: string } => {
    const dataDir = temporaryDataDir();
    return { workspaces: new WorkspaceStore(openDatabase(path.join(dataDir, 'perch.db')), dataDir), dataDir };
  };

  it('resolves by id, name, the folder, or a folder inside it (links resolved)', () => {
    const { workspaces } = store();
    const folder = projectFolder();
    mkdirSync(path.join(folder, 'src', 'deep'), { recursive: true });
    const added = workspaces.add(folder, 'app');
    const elsewhere = projectFolder('perch-link-');
    symlinkSync(path.join(folder, 'src'), path.join(elsewhere, 'to-src'));
    for (const reference of [added.id, 'app', folder, path.join(folder, 'src', 'deep'), path.join(elsewhere, 'to-src')]) {
      expect(workspaces.resolve(reference).id, reference).toBe(added.id);
    }
    expect(() => workspaces.resolve(elsewhere)).toThrow(/not a registered workspace/);
    expect(() => workspaces.resolve('relative/path')).toThrow(/not a registered workspace/);
  });

  it('refuses the file system’s root, Perch’s data folder and what holds it, a file, and a taken name', () => {
    const { workspaces, dataDir } = store();
    expect(() => workspaces.add('/')).toThrow(/root of the file system/);
    expect(() => workspaces.add(dataDir)).toThrow(/Perch's own data folder/);
    expect(() => workspaces.add(path.dirname(dataDir))).toThrow(/Perch's own data folder/);
    expect(() => workspaces.add(path.join(dataDir, 'perch.db'))).toThrow(/is a file, not a folder/);
    workspaces.add(projectFolder(), 'same');
    expect(() => workspaces.add(projectFolder(), 'same')).toThrow(/already a workspace named 'same'/);
    expect(() => workspaces.add(projectFolder(), '../evil')).toThrow(/cannot name a workspace/);
  });
});
