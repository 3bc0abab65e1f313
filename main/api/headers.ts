import type { ServerResponse } from 'node:http';

/** Sets headers given as name-value pairs (`[name, value, name, value, …]`, as writeHead takes them). */
export function setHeaders(res: ServerResponse, pairs: readonly string[]): void {
  for (let index = 0; index + 1 < pairs.length; index += 2) res.setHeader(pairs[index] as string, pairs[index + 1] as string);
}
