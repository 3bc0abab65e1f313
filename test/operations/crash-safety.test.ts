import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { cliEnv, requireBuild, startServe, type ServeProcess } from '../cli/run-perch.js';
import { parseSse, TEST_API_KEY, temporaryDataDir } from '../helpers/perch.js';

/**
 * kill -9 in the middle of concurrent chats: whatever a client already received must still be
 * in history after a restart, and the database must open cleanly.
 */

interface Received {
  session_id: string;
  message_id: string;
  text: string;
}

let upstream: FakeAnthropic;
let dataDir: string;
const serves: ServeProcess[] = [];

beforeAll(async () => {
  requireBuild();
  upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
  dataDir = temporaryDataDir();
});
afterAll(async () => {
  for (const serve of serves) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  await upstream.stop();
});

async function start(): Promise<{ serve: ServeProcess; token: string }> {
  const serve = await startServe(
    ['--port', '0'],
    cliEnv({ PERCH_DATA_DIR: dataDir, PERCH_UPSTREAM_URL: upstream.url, ANTHROPIC_API_KEY: TEST_API_KEY }),
  );
  serves.push(serve);
  return { serve, token: readFileSync(path.join(dataDir, 'token'), 'utf8').trim() };
}

/** One chat, JSON or streamed; resolves with what the client received in full, or undefined if cut off. */
async function chatOnce(url: string, token: string, index: number): Promise<Received | undefined> {
  const stream = index % 2 === 0;
  try {
    const res = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: `question ${index}`, stream }),
    });
    if (res.status !== 200) return undefined;
    if (!stream) {
      const body = (await res.json()) as { session_id: string; message_id: string; response: string };
      return { session_id: body.session_id, message_id: body.message_id, text: body.response };
    }
    const done = parseSse(await res.text()).find((event) => event.event === 'done');
    if (!done) return undefined;
    const data = done.data as { session_id: string; message_id: string; response: string };
    return { session_id: data.session_id, message_id: data.message_id, text: data.response };
  } catch {
    return undefined;
  }
}

describe('a crash (SIGKILL) during concurrent chats', () => {
  it('loses nothing a client received, and leaves a database that opens cleanly', { timeout: 120_000 }, async () => {
    const first = await start();
    // Answers take a while to stream, so the kill lands while many are in flight.
    for (let i = 0; i < 60; i += 1) {
      upstream.enqueue({ kind: 'answer', text: `answer ${i} `.repeat(20), chunks: 10, delayMs: 15 + (i % 7) * 10 });
    }
    const received: Received[] = [];
    const clients = Array.from({ length: 6 }, async (_unused, client) => {
      for (let round = 0; round < 10; round += 1) {
        const answer = await chatOnce(first.serve.url, first.token, client * 10 + round);
        if (answer) received.push(answer);
        else return;
      }
    });
    // Kill once some answers are complete and others are mid-stream.
    await expect.poll(() => received.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(8);
    first.serve.child.kill('SIGKILL');
    await first.serve.exited;
    await Promise.all(clients);
    expect(received.length).toBeGreaterThanOrEqual(8);

    const db = new Database(path.join(dataDir, 'perch.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const second = await start();
    for (const answer of received) {
      const res = await fetch(`${second.serve.url}/api/v1/sessions/${answer.session_id}`, {
        headers: { authorization: `Bearer ${second.token}` },
      });
      expect(res.status).toBe(200);
      const session = (await res.json()) as { messages: Array<{ id: string; content: string; status: string }> };
      const saved = session.messages.find((message) => message.id === answer.message_id);
      expect(saved?.content).toBe(answer.text);
      expect(saved?.status).toBe('complete');
    }
    // Answers cut off by the crash are kept as partial, never left "streaming".
    const sessions = (await (
      await fetch(`${second.serve.url}/api/v1/sessions?limit=100`, { headers: { authorization: `Bearer ${second.token}` } })
    ).json()) as { sessions: Array<{ id: string }> };
    for (const { id } of sessions.sessions) {
      const session = (await (
        await fetch(`${second.serve.url}/api/v1/sessions/${id}`, { headers: { authorization: `Bearer ${second.token}` } })
      ).json()) as { messages: Array<{ status: string }> };
      expect(session.messages.map((message) => message.status)).not.toContain('streaming');
    }
  });
});
