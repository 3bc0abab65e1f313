import { EventEmitter } from 'node:events';

/** What the core tells the outside world (the desktop shell shows it in the tray). */
export interface PerchEvents {
  'answer:started': [{ session_id: string; message_id: string }];
  'answer:finished': [{ session_id: string; message_id: string; status: 'complete' | 'partial' | 'error' }];
}

export class PerchEventBus extends EventEmitter<PerchEvents> {}
