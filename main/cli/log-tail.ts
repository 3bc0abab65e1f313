import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

/** Reads bytes [start, end) of a file. */
function readRange(file: string, start: number, end: number): Buffer {
  const buffer = Buffer.alloc(Math.max(0, end - start));
  const fd = openSync(file, 'r');
  try {
    let offset = 0;
    while (offset < buffer.length) {
      const read = readSync(fd, buffer, offset, buffer.length - offset, start + offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `lines` lines of a file (from `since` on), read backwards in blocks so a large log
 * costs only its tail. Returns the text and the size it was read up to.
 */
export function tailFile(file: string, lines: number, since = 0): { text: string; size: number } {
  const size = statSync(file).size;
  if (lines <= 0 || size <= since) return { text: '', size };
  const block = 64 * 1024;
  let start = size;
  let data = Buffer.alloc(0);
  let newlines = 0;
  // One newline more than lines wanted: the last line ends with one.
  while (start > since && newlines <= lines) {
    const next = Math.max(since, start - block);
    const chunk = readRange(file, next, start);
    for (const byte of chunk) if (byte === 0x0a) newlines += 1;
    data = Buffer.concat([chunk, data]);
    start = next;
  }
  const text = data.toString('utf8');
  // When the read stopped early its first piece may be cut (even mid-character): with more
  // newlines than lines wanted, the last `lines` pieces never include it.
  const pieces = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').slice(-lines);
  return { text: `${pieces.join('\n')}\n`, size };
}

/**
 * Writes what is appended to a file until the signal aborts. A file that shrinks or is replaced
 * (log rotation) is read again from its start.
 */
export async function followFile(
  file: string,
  from: number,
  write: (text: string) => void,
  signal: AbortSignal | undefined,
  intervalMs = 250,
): Promise<void> {
  let position = from;
  let identity: number | undefined;
  let decoder = new StringDecoder('utf8');
  try {
    identity = statSync(file).ino;
  } catch {
    identity = undefined;
  }
  while (!signal?.aborted) {
    try {
      const stats = statSync(file);
      if (stats.ino !== identity || stats.size < position) {
        identity = stats.ino;
        position = 0;
        decoder = new StringDecoder('utf8');
      }
      if (stats.size > position) {
        const end = Math.min(stats.size, position + 1024 * 1024);
        const text = decoder.write(readRange(file, position, end));
        position = end;
        if (text) write(text);
        continue;
      }
    } catch {
      // Between a rotation's rename and the new file: look again shortly.
    }
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return;
    }
  }
}
