const LABELS: Record<string, string> = {
  queued: 'queued',
  running: 'working',
  needs_approval: 'needs you',
  done: 'done',
  failed: 'failed',
  stopped: 'stopped',
};

/** A task's status as a small label; "needs you" stands out. */
export function StatusChip({ status }: { status: string }) {
  return <span className={`status-chip ${status}`}>{LABELS[status] ?? status}</span>;
}
