import { randomBytes } from 'node:crypto';

/** Prefixed ids that sort by creation time: `ses_…`, `msg_…`, `job_…`, `run_…`, `rev_…`, `task_…`, … */
export function newId(
  prefix: 'ses' | 'msg' | 'att' | 'job' | 'run' | 'rev' | 'ws' | 'task' | 'perm',
  now: number = Date.now(),
): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
