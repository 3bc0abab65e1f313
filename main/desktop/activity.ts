import type { PerchEventBus, PerchEvents } from '../core/events.js';

/** A task waiting for a person's answer. */
export interface WaitingTask {
  task_id: string;
  title: string;
}

/**
 * What the tray icon shows: nothing going on, Perch at work (an answer streaming, a job just
 * finished), or a task waiting for the person's answer — which wins, since it is the one that
 * needs them.
 */
export type TrayState = 'idle' | 'busy' | 'needs-you';

export interface ActivityOptions {
  events: PerchEventBus;
  /** Told whenever the tray should switch icons. */
  onStateChange: (state: TrayState) => void;
  /** Told whenever the tasks waiting for a person change (the tray's "Task needs you" line). */
  onWaitingChange?: (waiting: WaitingTask[]) => void;
  /** How long the icon shows that a scheduled job just finished. */
  jobFlashMs?: number;
}

/**
 * What the tray shows: busy while an answer is streaming and for a moment after a scheduled job
 * finishes, "needs you" while a task waits for a person. Driven by the core's events; no timers
 * run while nothing happens.
 */
export class TrayActivity {
  private readonly streaming = new Set<string>();
  private readonly waiting = new Map<string, string>();
  private jobFlash: NodeJS.Timeout | undefined;
  private shown: TrayState = 'idle';
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ActivityOptions) {
    const started = ({ message_id }: PerchEvents['answer:started'][0]): void => {
      this.streaming.add(message_id);
      this.update();
    };
    const finished = ({ message_id }: PerchEvents['answer:finished'][0]): void => {
      this.streaming.delete(message_id);
      this.update();
    };
    const jobFinished = (): void => {
      clearTimeout(this.jobFlash);
      this.jobFlash = setTimeout(() => {
        this.jobFlash = undefined;
        this.update();
      }, options.jobFlashMs ?? 10_000);
      this.jobFlash.unref();
      this.update();
    };
    const taskChanged = ({ task_id, title, status }: PerchEvents['task:changed'][0]): void => {
      const before = this.waiting.has(task_id);
      if (status === 'needs_approval') this.waiting.set(task_id, title);
      else this.waiting.delete(task_id);
      if (before !== this.waiting.has(task_id)) options.onWaitingChange?.(this.waitingTasks);
      this.update();
    };
    options.events.on('answer:started', started);
    options.events.on('answer:finished', finished);
    options.events.on('job:finished', jobFinished);
    options.events.on('task:changed', taskChanged);
    this.unsubscribe = () => {
      options.events.off('answer:started', started);
      options.events.off('answer:finished', finished);
      options.events.off('job:finished', jobFinished);
      options.events.off('task:changed', taskChanged);
      clearTimeout(this.jobFlash);
    };
  }

  /** Tasks waiting for a person, oldest first. */
  get waitingTasks(): WaitingTask[] {
    return [...this.waiting].map(([task_id, title]) => ({ task_id, title }));
  }

  get state(): TrayState {
    return this.shown;
  }

  close(): void {
    this.unsubscribe();
  }

  private update(): void {
    const busy = this.streaming.size > 0 || this.jobFlash !== undefined;
    const state: TrayState = this.waiting.size > 0 ? 'needs-you' : busy ? 'busy' : 'idle';
    if (state === this.shown) return;
    this.shown = state;
    this.options.onStateChange(state);
  }
}

export interface DesktopNotice {
  title: string;
  body: string;
  /** The UI route to open when the notice is clicked. */
  route?: string;
}

/** The notice for a finished scheduled job, if it asked for one (or failed: that is worth knowing). */
export function jobNotice(event: PerchEvents['job:finished'][0]): DesktopNotice | undefined {
  if (!event.notify && event.status === 'succeeded') return undefined;
  const summary = event.summary.length > 180 ? `${event.summary.slice(0, 179)}…` : event.summary;
  return {
    title: event.status === 'succeeded' ? event.job_name : `${event.job_name} failed`,
    body: summary || (event.status === 'succeeded' ? 'Finished.' : 'The run failed; see its history.'),
    route: 'jobs',
  };
}

/** The notice for a task that needs a person, or ended a turn on its own (a stop needs no notice). */
export function taskNotice(event: PerchEvents['task:changed'][0]): DesktopNotice | undefined {
  const route = `tasks/${encodeURIComponent(event.task_id)}`;
  switch (event.status) {
    case 'needs_approval':
      return { title: 'Claude needs you', body: `${event.title}: a request waits for your answer.`, route };
    case 'done':
      return { title: 'Task done', body: event.title, route };
    case 'failed':
      return { title: 'Task failed', body: event.title, route };
    default:
      return undefined;
  }
}
