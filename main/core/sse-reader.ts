/**
 * Reads Server-Sent Events from a body that arrives in arbitrary pieces. Pure (no Node or DOM
 * APIs), so the CLI and the web UI share it.
 */
export interface ServerSentEvent {
  event: string;
  data: unknown;
  /** The event's `id:` line, when it has one (a task event's seq). */
  id?: string;
}

export class SseReader {
  private buffer = '';

  /** Takes the next piece of text; returns the events it completed (data parsed as JSON). */
  push(text: string): ServerSentEvent[] {
    this.buffer += text;
    const events: ServerSentEvent[] = [];
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      if (data.length > 0) {
        const parsed = JSON.parse(data.join('\n')) as unknown;
        events.push(id === undefined ? { event, data: parsed } : { event, data: parsed, id });
      }
      boundary = this.buffer.indexOf('\n\n');
    }
    return events;
  }
}
