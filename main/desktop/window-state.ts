import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeOwnerOnlyFile } from '../core/files/owner-only-file.js';
import type { Rectangle } from './placement.js';

export interface SavedWindow {
  bounds: Rectangle;
  maximized: boolean;
}

const isRectangle = (value: unknown): value is Rectangle =>
  typeof value === 'object' &&
  value !== null &&
  ['x', 'y', 'width', 'height'].every((key) => Number.isFinite((value as Record<string, unknown>)[key])) &&
  (value as Rectangle).width > 0 &&
  (value as Rectangle).height > 0;

/**
 * Where each window was, by name, in `window-state.json` in the data folder. A missing or
 * damaged file just means default placement: it is never worth an error.
 */
export class WindowStateStore {
  private readonly file: string;
  private states: Record<string, SavedWindow>;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'window-state.json');
    this.states = this.read();
  }

  get(name: string): SavedWindow | undefined {
    return this.states[name];
  }

  save(name: string, state: SavedWindow): void {
    this.states = { ...this.states, [name]: state };
    try {
      writeOwnerOnlyFile(this.file, `${JSON.stringify(this.states, null, 2)}\n`);
    } catch {
      // Placement is a convenience; a read-only folder must not break closing a window.
    }
  }

  private read(): Record<string, SavedWindow> {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null) return {};
      return Object.fromEntries(
        Object.entries(parsed as Record<string, unknown>).flatMap(([name, value]) => {
          const state = value as Partial<SavedWindow> | null;
          return state && isRectangle(state.bounds)
            ? [[name, { bounds: state.bounds, maximized: state.maximized === true }]]
            : [];
        }),
      );
    } catch {
      return {};
    }
  }
}
