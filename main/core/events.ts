import { EventEmitter } from 'node:events';

/** What the core tells the outside world (the desktop shell shows it in the tray). */
export interface PerchEvents {
  'answer:started': [{ session_id: string; message_id: string }];
  'answer:finished': [{ session_id: string; message_id: string; status: 'complete' | 'partial' | 'error' }];
  'review:finished': [{ review_id: string; repo: string; pr_number: number; status: 'posted' | 'failed' }];
  /** A task started, needs a person, or ended a turn (done, failed, stopped). */
  'task:changed': [
    { task_id: string; title: string; status: 'queued' | 'running' | 'needs_approval' | 'done' | 'failed' | 'stopped' },
  ];
  'job:finished': [
    { job_id: string; job_name: string; run_id: string; status: 'succeeded' | 'failed'; notify: boolean; summary: string },
  ];
}

export class PerchEventBus extends EventEmitter<PerchEvents> {}
