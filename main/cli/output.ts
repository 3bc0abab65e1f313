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
