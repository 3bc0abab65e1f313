import type { Workspace } from '../../api/types';

/** The permission modes a person picks from (bypassPermissions is for the CLI and the API only). */
export const PERMISSION_MODES = [
  ['default', 'Ask before edits and commands'],
  ['acceptEdits', 'Let edits through, ask before commands'],
  ['plan', 'Only plan, change nothing'],
] as const;

export type PickableMode = (typeof PERMISSION_MODES)[number][0];

/** Where a task works: the registered workspaces, by name and folder. */
export function WorkspaceSelect({
  workspaces,
  value,
  onChange,
  id,
  label,
}: {
  workspaces: Workspace[];
  value: string;
  onChange: (id: string) => void;
  id?: string;
  /** An accessible name when no <label> names the select. */
  label?: string;
}) {
  return (
    <select id={id} aria-label={label} className="input" value={value} onChange={(event) => onChange(event.target.value)}>
      {workspaces.map((workspace) => (
        <option key={workspace.id} value={workspace.id}>
          {workspace.name} — {workspace.path}
        </option>
      ))}
    </select>
  );
}

/** How freely Claude may act. */
export function ModeSelect({
  value,
  onChange,
  id,
  label,
}: {
  value: PickableMode;
  onChange: (mode: PickableMode) => void;
  id?: string;
  label?: string;
}) {
  return (
    <select
      id={id}
      aria-label={label}
      className="input"
      value={value}
      onChange={(event) => onChange(event.target.value as PickableMode)}
    >
      {PERMISSION_MODES.map(([mode, text]) => (
        <option key={mode} value={mode}>
          {text}
        </option>
      ))}
    </select>
  );
}
