/** History speed: full-text search over 100,000 stored messages, and opening a 2,000-message session. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConversationStore } from '../main/core/storage/conversation-store.js';
import { openDatabase } from '../main/core/storage/database.js';
import { percentile, round } from './common.js';

function timed(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export function measureHistory(): Record<string, unknown> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'perch-bench-'));
  const db = openDatabase(path.join(directory, 'perch.db'));
  const store = new ConversationStore(db);
  const words = ['rust', 'python', 'deploy', 'kubernetes', 'lifetime', 'borrow', 'async', 'database', 'index', 'cache', 'react'];
  const sentence = (seed: number): string =>
    Array.from({ length: 24 }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ');
  const fill = db.transaction((sessions: number, perSession: number) => {
    for (let s = 0; s < sessions; s += 1) {
      const session = store.createSession({ title: `Session ${s}` });
      for (let m = 0; m < perSession / 2; m += 1) {
        const turn = store.startTurn({
          sessionId: session.id,
          user: { content: `${sentence(s + m)} question ${s}-${m}` },
          model: 'm',
        });
        store.finishAnswer(turn.assistantMessageId, {
          content: `${sentence(s * m)} answer ${s}-${m}`,
          status: 'complete',
          model: 'm',
          stop_reason: 'end_turn',
          usage: null,
          cost_usd: null,
        });
      }
    }
  });
  const fillStarted = performance.now();
  fill(50, 2000);
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const bigSessionId = store.listSessions({ limit: 1 }).sessions[0]?.id;
  if (!bigSessionId) throw new Error('no session stored');
  const searchTimes: number[] = [];
  for (let index = 0; index < 200; index += 1) {
    const query = `${words[index % words.length]} ${words[(index + 3) % words.length]?.slice(0, 4)}`;
    searchTimes.push(timed(() => store.search(query, 20)));
  }
  const openTimes: number[] = [];
  for (let index = 0; index < 20; index += 1) openTimes.push(timed(() => store.messages(bigSessionId)));
  const opened = store.messages(bigSessionId);
  const result = {
    messages: store.counts().messages,
    fillSeconds: round(fillSeconds, 1),
    searchP50Ms: round(percentile(searchTimes, 50)),
    searchP99Ms: round(percentile(searchTimes, 99)),
    openSessionMessages: opened.length,
    open2000MessagesP50Ms: round(percentile(openTimes, 50)),
    open2000MessagesP99Ms: round(percentile(openTimes, 99)),
  };
  db.close();
  rmSync(directory, { recursive: true, force: true });
  return result;
}
