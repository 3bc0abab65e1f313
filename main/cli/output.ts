/** Where the CLI writes: injectable so commands are testable without a terminal. */
export interface Output {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Writes text to stdout as it is, without a newline (for streamed answers). */
  write: (text: string) => void;
}

export const processOutput: Output = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  write: (text) => process.stdout.write(text),
};

export async function readAllStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads answers line by line from stdin — a terminal, or input piped in — asking with `prompt`
 * on stdout. Resolves undefined once stdin has ended (nobody can answer here).
 */
export function stdinLineReader(
  out: Output,
  input: NodeJS.ReadableStream = process.stdin,
): (prompt: string) => Promise<string | undefined> {
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let ended = false;
  let started = false;
  let partial = '';
  const start = (): void => {
    started = true;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      partial += chunk;
      let newline = partial.indexOf('\n');
      while (newline !== -1) {
        const line = partial.slice(0, newline).replace(/\r$/, '');
        partial = partial.slice(newline + 1);
        const next = waiting.shift();
        if (next) next(line);
        else lines.push(line);
        newline = partial.indexOf('\n');
      }
      // Nothing is asked now: stop reading so the process can end.
      if (waiting.length === 0) input.pause();
    });
    input.on('end', () => {
      ended = true;
      if (partial) lines.push(partial);
      partial = '';
      for (const next of waiting.splice(0)) next(lines.shift());
    });
  };
  // A terminal echoes what is typed; piped answers are echoed here, so the transcript reads right.
  const echo = (input as { isTTY?: boolean }).isTTY !== true;
  return (prompt) => {
    out.write(prompt);
    const ready = lines.shift();
    if (ready !== undefined) {
      if (echo) out.write(`${ready}\n`);
      return Promise.resolve(ready);
    }
    if (ended) {
      out.write('\n');
      return Promise.resolve(undefined);
    }
    if (!started) start();
    input.resume();
    return new Promise((resolve) =>
      waiting.push((line) => {
        if (echo || line === undefined) out.write(`${line ?? ''}\n`);
        resolve(line);
      }),
    );
  };
}
