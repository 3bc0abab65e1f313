/**
 * Where Perch's relay spends its CPU: runs `perch serve` under `node --cpu-prof`, drives
 * /v1/messages (16 connections unless told), stops it (SIGTERM, so the profile is written) and
 * prints the functions with the most self time, the files they are in, and the inclusive time
 * of Perch's own functions.
 *
 *   npx tsx bench/profile.ts [seconds=10] [--connections 16] [--stream] [--build DIR]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPerch, startUpstream } from './common.js';
import { summarizeProfile } from './cpuprofile.js';
import { HttpConnection, requestBytes } from './http-client.js';

const seconds = Number(process.argv[2] && /^\d+$/.test(process.argv[2]) ? process.argv[2] : 10);
const stream = process.argv.includes('--stream');
const connectionsAt = process.argv.indexOf('--connections');
const connections = connectionsAt === -1 ? 16 : Number(process.argv[connectionsAt + 1]);
const buildAt = process.argv.indexOf('--build');
const bin = buildAt === -1 ? undefined : path.join(path.resolve(process.argv[buildAt + 1] ?? '.'), 'bin/perch.js');
const directory = mkdtempSync(path.join(os.tmpdir(), 'perch-prof-'));
const upstream = await startUpstream();
const perch = await startPerch({
  upstreamUrl: upstream.url,
  settings: { 'rateLimit.requestsPerMinute': '0' },
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', directory],
  ...(bin ? { bin } : {}),
});
const url = new URL(perch.url);
const body = JSON.stringify({
  model: 'claude-sonnet-5-5',
  max_tokens: 64,
  ...(stream ? { stream: true } : {}),
  messages: [{ role: 'user', content: 'ping' }],
});
const bytes = requestBytes(
  url,
  'POST',
  '/v1/messages',
  { 'x-api-key': perch.token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
  body,
);
let count = 0;
const until = performance.now() + seconds * 1000;
await Promise.all(
  Array.from({ length: connections }, async () => {
    const connection = new HttpConnection(url);
    while (performance.now() < until) {
      const answer = await connection.request(bytes);
      if (answer.status !== 200) throw new Error(`status ${answer.status}`);
      count += 1;
    }
    connection.close();
  }),
);
await perch.stop();
await upstream.stop();
console.log(`${count} requests in ${seconds} s (${Math.round(count / seconds)}/s) under the profiler; profile in ${directory}`);

const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
console.log(summarizeProfile(path.join(directory, file)));
