import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

interface Session {
  id: string;
  title: string;
  message_count: number;
  created_at: string;
  updated_at: string;
  system: string | null;
}

let perch: TestPerch;
beforeEach(async () => {
  perch = await startTestPerch();
});
afterEach(async () => {
  await perch.stop();
});

async function chat(message: string, sessionId?: string): Promise<{ session_id: string; message_id: string }> {
  const res = await perch.request('/api/v1/chat', { json: { message, ...(sessionId ? { session_id: sessionId } : {}) } });
  expect(res.status).toBe(200);
  return (await res.json()) as { session_id: string; message_id: string };
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

describe('sessions', () => {
  it('lists sessions newest first under a "sessions" key, titled from their first message', async () => {
    const first = await chat('How do I reverse a list in Python?');
    const second = await chat('What is the capital of Peru?');
    const { sessions, has_more } = await json<{ sessions: Session[]; has_more: boolean }>(perch.request('/api/v1/sessions'));
    expect(sessions.map((session) => session.id)).toEqual([second.session_id, first.session_id]);
    expect(sessions.map((session) => session.title)).toEqual([
      'What is the capital of Peru?',
      'How do I reverse a list in Python?',
    ]);
    expect(sessions[0]?.message_count).toBe(2);
    expect(has_more).toBe(false);
  });

  it('moves a session to the top when it gets a new message', async () => {
    const older = await chat('first');
    await chat('second');
    await chat('follow-up', older.session_id);
    const { sessions } = await json<{ sessions: Session[] }>(perch.request('/api/v1/sessions'));
    expect(sessions[0]?.id).toBe(older.session_id);
  });

  it('pages with limit and before', async () => {
    for (const text of ['one', 'two', 'three', 'four', 'five']) await chat(text);
    const page1 = await json<{ sessions: Session[]; has_more: boolean }>(perch.request('/api/v1/sessions?limit=2'));
    const page2 = await json<{ sessions: Session[]; has_more: boolean }>(
      perch.request(`/api/v1/sessions?limit=2&before=${page1.sessions[1]?.id}`),
    );
    const page3 = await json<{ sessions: Session[]; has_more: boolean }>(
      perch.request(`/api/v1/sessions?limit=2&before=${page2.sessions[1]?.id}`),
    );
    expect([...page1.sessions, ...page2.sessions, ...page3.sessions].map((session) => session.title)).toEqual([
      'five',
      'four',
      'three',
      'two',
      'one',
    ]);
    expect([page1.has_more, page2.has_more, page3.has_more]).toEqual([true, true, false]);
  });

  it('refuses a bad limit with 400 naming it', async () => {
    const res = await perch.request('/api/v1/sessions?limit=0');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("'limit'");
  });

  it('creates an empty session, then chats in it', async () => {
    const res = await perch.request('/api/v1/sessions', { json: { system: 'Answer in French.' } });
    expect(res.status).toBe(201);
    const session = (await res.json()) as Session;
    expect(session).toMatchObject({ title: '', message_count: 0, system: 'Answer in French.' });
    await chat('Hello', session.id);
    expect((perch.upstream.messageRequests[0]?.body as { system: string }).system).toBe('Answer in French.');
    const updated = await json<Session>(perch.request(`/api/v1/sessions/${session.id}`));
    expect(updated.title).toBe('Hello');
  });

  it('creates a session with a bodiless POST', async () => {
    const res = await perch.request('/api/v1/sessions', { method: 'POST' });
    expect(res.status).toBe(201);
  });

  it('returns a session with its messages in order', async () => {
    const { session_id } = await chat('Question one');
    await chat('Question two', session_id);
    const session = await json<Session & { messages: Array<{ role: string; content: string }> }>(
      perch.request(`/api/v1/sessions/${session_id}`),
    );
    expect(session.messages.map((message) => `${message.role}: ${message.content}`)).toEqual([
      'user: Question one',
      'assistant: You said: Question one',
      'user: Question two',
      'assistant: You said: Question two',
    ]);
  });

  it('renames a session; the title then stays when new messages arrive', async () => {
    const { session_id } = await chat('original first message');
    const renamed = await json<Session>(
      perch.request(`/api/v1/sessions/${session_id}`, { method: 'PATCH', json: { title: 'My title' } }),
    );
    expect(renamed.title).toBe('My title');
    await chat('another message', session_id);
    const session = await json<Session>(perch.request(`/api/v1/sessions/${session_id}`));
    expect(session.title).toBe('My title');
  });

  it('returns to the automatic title when renamed to empty', async () => {
    const { session_id } = await chat('automatic title source');
    await perch.request(`/api/v1/sessions/${session_id}`, { method: 'PATCH', json: { title: 'Custom' } });
    const reset = await json<Session>(perch.request(`/api/v1/sessions/${session_id}`, { method: 'PATCH', json: { title: '' } }));
    expect(reset.title).toBe('automatic title source');
  });

  it('refuses a PATCH with nothing to change', async () => {
    const { session_id } = await chat('x');
    const res = await perch.request(`/api/v1/sessions/${session_id}`, { method: 'PATCH', json: {} });
    expect(res.status).toBe(400);
  });

  it('deletes a session and its messages', async () => {
    const { session_id } = await chat('to be deleted');
    const res = await perch.request(`/api/v1/sessions/${session_id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect((await perch.request(`/api/v1/sessions/${session_id}`)).status).toBe(404);
    expect(perch.service.core.conversations.counts()).toEqual({ sessions: 0, messages: 0 });
    expect((await perch.request(`/api/v1/sessions/${session_id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 404 for an unknown session', async () => {
    const res = await perch.request('/api/v1/sessions/ses_unknown');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });
});

describe('history search', () => {
  it('finds messages by words across sessions, with a highlighted snippet', async () => {
    const rust = await chat('How do lifetimes work in Rust?');
    await chat('Recommend a pasta recipe');
    const { results } = await json<{
      results: Array<{ session_id: string; snippet: string; role: string; session_title: string }>;
    }>(perch.request('/api/v1/sessions/search?q=lifetimes'));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => result.session_id === rust.session_id)).toBe(true);
    expect(results[0]?.snippet).toContain('**lifetimes**');
    expect(results[0]?.session_title).toBe('How do lifetimes work in Rust?');
  });

  it('matches the last word as a prefix, so results appear while typing', async () => {
    await chat('Explain the borrow checker');
    const { results } = await json<{ results: unknown[] }>(perch.request('/api/v1/sessions/search?q=borr'));
    expect(results.length).toBeGreaterThan(0);
  });

  it('treats search syntax as plain words', async () => {
    await chat('quotes "and" stars*');
    const res = await perch.request(`/api/v1/sessions/search?q=${encodeURIComponent('"and" OR NEAR( stars*')}`);
    expect(res.status).toBe(200);
  });

  it('requires search text', async () => {
    expect((await perch.request('/api/v1/sessions/search?q=')).status).toBe(400);
  });
});

describe('persistence', () => {
  it('keeps sessions and messages across a restart', async () => {
    const { session_id } = await chat('Remember this across restarts');
    await perch.restart();
    const session = await json<Session & { messages: Array<{ content: string }> }>(
      perch.request(`/api/v1/sessions/${session_id}`),
    );
    expect(session.messages.map((message) => message.content)).toEqual([
      'Remember this across restarts',
      'You said: Remember this across restarts',
    ]);
    await chat('And continue after it', session_id);
    const body = perch.upstream.messageRequests.at(-1)?.body as { messages: unknown[] };
    expect(body.messages).toHaveLength(3);
  });

  it('marks an answer left streaming by a crash as partial at the next start', async () => {
    const { session_id } = await chat('before the crash');
    const store = perch.service.core.conversations;
    const turn = store.startTurn({
      sessionId: session_id,
      user: { content: 'interrupted question' },
      model: 'claude-sonnet-5-5',
    });
    store.saveProgress(turn.assistantMessageId, 'half of an answer');
    await perch.restart();
    const answer = perch.service.core.conversations.message(turn.assistantMessageId);
    expect(answer).toMatchObject({ status: 'partial', content: 'half of an answer', error: { type: 'interrupted' } });
  });
});
