import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PerchEventBus, type PerchEvents } from '../../main/core/events.js';
import { jobNotice, taskNotice, TrayActivity, type TrayState, type WaitingTask } from '../../main/desktop/activity.js';

type JobFinished = PerchEvents['job:finished'][0];

const job = (overrides: Partial<JobFinished> = {}): JobFinished => ({
  job_id: 'job_1',
  job_name: 'Morning digest',
  run_id: 'run_1',
  status: 'succeeded',
  notify: false,
  summary: 'Three new issues, one needs you.',
  ...overrides,
});

function activity(jobFlashMs?: number) {
  const events = new PerchEventBus();
  const changes: TrayState[] = [];
  const tray = new TrayActivity({ events, onStateChange: (state) => changes.push(state), ...(jobFlashMs ? { jobFlashMs } : {}) });
  const start = (message_id: string): boolean => events.emit('answer:started', { session_id: 'ses_1', message_id });
  const finish = (message_id: string, status: 'complete' | 'partial' | 'error' = 'complete'): boolean =>
    events.emit('answer:finished', { session_id: 'ses_1', message_id, status });
  return { events, tray, changes, start, finish };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('tasks in the tray', () => {
  it('shows that a task needs the person, and lists it, while it waits; not once it goes on', () => {
    const events = new PerchEventBus();
    const changes: TrayState[] = [];
    const lists: WaitingTask[][] = [];
    const tray = new TrayActivity({
      events,
      onStateChange: (state) => changes.push(state),
      onWaitingChange: (list) => lists.push(list),
    });
    const change = (status: PerchEvents['task:changed'][0]['status']): boolean =>
      events.emit('task:changed', { task_id: 'task_1', title: 'Fix the build', status });
    change('running');
    expect(tray.state).toBe('idle');
    change('needs_approval');
    expect(tray.state).toBe('needs-you');
    expect(tray.waitingTasks).toEqual([{ task_id: 'task_1', title: 'Fix the build' }]);
    change('running');
    change('done');
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['needs-you', 'idle']);
    expect(lists).toEqual([[{ task_id: 'task_1', title: 'Fix the build' }], []]);
    tray.close();
  });

  it('says a task needs the person over an answer streaming, and goes back to busy once it is answered', () => {
    const events = new PerchEventBus();
    const changes: TrayState[] = [];
    const tray = new TrayActivity({ events, onStateChange: (state) => changes.push(state) });
    events.emit('answer:started', { session_id: 'ses_1', message_id: 'msg_1' });
    events.emit('task:changed', { task_id: 'task_1', title: 'Fix the build', status: 'needs_approval' });
    events.emit('answer:started', { session_id: 'ses_1', message_id: 'msg_2' });
    expect(tray.state).toBe('needs-you');
    events.emit('task:changed', { task_id: 'task_1', title: 'Fix the build', status: 'running' });
    expect(tray.state).toBe('busy');
    events.emit('answer:finished', { session_id: 'ses_1', message_id: 'msg_1', status: 'complete' });
    events.emit('answer:finished', { session_id: 'ses_1', message_id: 'msg_2', status: 'complete' });
    expect(changes).toEqual(['busy', 'needs-you', 'busy', 'idle']);
    tray.close();
  });

  it('notifies when a task needs the person, and when it is done or failed (not when someone stopped it)', () => {
    const event = (status: PerchEvents['task:changed'][0]['status']) => ({ task_id: 'task_9', title: 'Ship it', status });
    expect(taskNotice(event('needs_approval'))).toEqual({
      title: 'Claude needs you',
      body: 'Ship it: a request waits for your answer.',
      route: 'tasks/task_9',
    });
    expect(taskNotice(event('done'))).toMatchObject({ title: 'Task done', route: 'tasks/task_9' });
    expect(taskNotice(event('failed'))).toMatchObject({ title: 'Task failed' });
    expect(taskNotice(event('stopped'))).toBeUndefined();
    expect(taskNotice(event('running'))).toBeUndefined();
  });
});

describe('TrayActivity', () => {
  it('starts idle', () => {
    const { tray, changes } = activity();
    expect(tray.state).toBe('idle');
    expect(changes).toEqual([]);
  });

  it('is busy while an answer streams', () => {
    const { tray, changes, start, finish } = activity();
    start('msg_1');
    expect(tray.state).toBe('busy');
    finish('msg_1');
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['busy', 'idle']);
  });

  it('stays busy until the last of overlapping answers finishes', () => {
    const { tray, changes, start, finish } = activity();
    start('msg_1');
    start('msg_2');
    finish('msg_1');
    expect(tray.state).toBe('busy');
    finish('msg_2', 'error');
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['busy', 'idle']);
  });

  it('ignores an answer it never saw start', () => {
    const { tray, changes, start, finish } = activity();
    finish('msg_unknown');
    start('msg_1');
    finish('msg_unknown');
    expect(tray.state).toBe('busy');
    expect(changes).toEqual(['busy']);
  });

  it('shows a finished scheduled job for jobFlashMs', () => {
    const { events, tray, changes } = activity(5_000);
    events.emit('job:finished', job());
    expect(tray.state).toBe('busy');
    vi.advanceTimersByTime(4_999);
    expect(tray.state).toBe('busy');
    vi.advanceTimersByTime(1);
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['busy', 'idle']);
  });

  it('shows a finished job for ten seconds by default', () => {
    const { events, tray } = activity();
    events.emit('job:finished', job());
    vi.advanceTimersByTime(9_999);
    expect(tray.state).toBe('busy');
    vi.advanceTimersByTime(1);
    expect(tray.state).toBe('idle');
  });

  it('starts the flash again when another job finishes', () => {
    const { events, tray, changes } = activity(5_000);
    events.emit('job:finished', job());
    vi.advanceTimersByTime(4_000);
    events.emit('job:finished', job({ job_id: 'job_2', run_id: 'run_2' }));
    vi.advanceTimersByTime(4_000);
    expect(tray.state).toBe('busy');
    vi.advanceTimersByTime(1_000);
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['busy', 'idle']);
  });

  it('stays busy while an answer streams after the job flash ends, and the other way round', () => {
    const { events, tray, changes, start, finish } = activity(5_000);
    events.emit('job:finished', job());
    start('msg_1');
    vi.advanceTimersByTime(5_000);
    expect(tray.state).toBe('busy');
    finish('msg_1');
    expect(tray.state).toBe('idle');

    start('msg_2');
    events.emit('job:finished', job());
    finish('msg_2');
    expect(tray.state).toBe('busy');
    vi.advanceTimersByTime(5_000);
    expect(tray.state).toBe('idle');
    expect(changes).toEqual(['busy', 'idle', 'busy', 'idle']);
  });

  it('runs no timer while nothing happens', () => {
    const { events } = activity();
    expect(vi.getTimerCount()).toBe(0);
    events.emit('job:finished', job());
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops listening when closed', () => {
    const { events, tray, changes, start } = activity();
    tray.close();
    start('msg_1');
    events.emit('job:finished', job());
    expect(tray.state).toBe('idle');
    expect(changes).toEqual([]);
    expect(events.listenerCount('answer:started')).toBe(0);
    expect(events.listenerCount('answer:finished')).toBe(0);
    expect(events.listenerCount('job:finished')).toBe(0);
  });

  it('drops a pending job flash when closed', () => {
    const { events, tray, changes } = activity();
    events.emit('job:finished', job());
    tray.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(changes).toEqual(['busy']);
  });
});

describe('jobNotice', () => {
  it('says nothing for a job that succeeded without asking to notify', () => {
    expect(jobNotice(job({ status: 'succeeded', notify: false }))).toBeUndefined();
  });

  it('tells a job that asked to notify, by name, with its summary, opening the jobs view', () => {
    expect(jobNotice(job({ notify: true }))).toEqual({
      title: 'Morning digest',
      body: 'Three new issues, one needs you.',
      route: 'jobs',
    });
  });

  it('always tells a failed job, even one that did not ask', () => {
    expect(jobNotice(job({ status: 'failed', notify: false, summary: 'The API key was refused.' }))).toEqual({
      title: 'Morning digest failed',
      body: 'The API key was refused.',
      route: 'jobs',
    });
  });

  it('says something when the summary is empty', () => {
    expect(jobNotice(job({ notify: true, summary: '' }))?.body).toBe('Finished.');
    expect(jobNotice(job({ status: 'failed', summary: '' }))?.body).toBe('The run failed; see its history.');
  });

  it('cuts a long summary to 180 characters, ending with an ellipsis', () => {
    const body = jobNotice(job({ notify: true, summary: 'x'.repeat(500) }))?.body ?? '';
    expect(body).toHaveLength(180);
    expect(body).toBe(`${'x'.repeat(179)}…`);
  });

  it('keeps a summary of exactly 180 characters whole', () => {
    const summary = 'y'.repeat(180);
    expect(jobNotice(job({ notify: true, summary }))?.body).toBe(summary);
  });
});
