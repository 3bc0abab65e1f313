import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeEach(async () => {
  perch = await startTestPerch();
});
afterEach(async () => {
  await perch.stop();
});

interface StoredMessage {
  role: string;
  content: string;
  status: string;
  error: { type: string; message: string } | null;
}

async function messagesOf(sessionId: string): Promise<StoredMessage[]> {
  const res = await perch.request(`/api/v1/sessions/${sessionId}`);
  return ((await res.json()) as { messages: StoredMessage[] }).messages;
}

async function streamChat(message: string): Promise<ReturnType<typeof parseSse>> {
  const res = await perch.request('/api/v1/chat', { json: { message, stream: true } });
  return parseSse(await res.text());
}

/** Opens a streaming chat over raw HTTP and hangs up after the first delta arrives. */
function chatAndHangUpAfterFirstDelta(): Promise<{ session_id: string; message_id: string }> {
  const url = new URL(perch.url);
  const body = JSON.stringify({ message: 'Tell me a long story', stream: true });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/api/v1/chat',
        method: 'POST',
        headers: {
          authorization: `Bearer ${perch.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('event: delta')) {
            const start = parseSse(text.slice(0, text.indexOf('event: delta')))[0]?.data as {
              session_id: string;
              message_id: string;
            };
            req.destroy();
            resolve(start);
          }
        });
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end(body);
  });
}

describe('a client that disconnects mid-answer', () => {
  it('aborts the upstream request and saves what had streamed as partial', async () => {
    perch.upstream.enqueue({
      kind: 'answer',
      text: 'Once upon a time, in a land far away, there lived a fox.',
      chunks: 20,
      delayMs: 25,
    });
    const { session_id } = await chatAndHangUpAfterFirstDelta();
    await perch.upstream.waitForClientAbort();
    expect(perch.upstream.clientAborts).toBe(1);
    await expect.poll(async () => (await messagesOf(session_id))[1]?.status).toBe('partial');
    const [question, answer] = await messagesOf(session_id);
    expect(question?.content).toBe('Tell me a long story');
    expect(answer?.content.length).toBeGreaterThan(0);
    expect('Once upon a time, in a land far away, there lived a fox.').toContain(answer?.content ?? '');
    expect(answer?.error?.type).toBe('cancelled');
  });

  it('aborts a JSON (non-streaming) answer too when its client goes away', async () => {
    perch.upstream.enqueue({ kind: 'stall', textBefore: 'Thinking' });
    const controller = new AbortController();
    const pending = perch
      .request('/api/v1/chat', { json: { message: 'slow one' }, signal: controller.signal })
      .catch(() => undefined);
    await expect.poll(() => perch.upstream.messageRequests.length).toBe(1);
    controller.abort();
    await pending;
    await perch.upstream.waitForClientAbort();
    expect(perch.service.core.chat.activeAnswers).toBe(0);
  });
});

describe('overload inside the stream', () => {
  it('retries with backoff when the overload arrives before any text', async () => {
    perch.upstream.enqueue(
      { kind: 'stream-error', type: 'overloaded_error', message: 'Overloaded' },
      { kind: 'answer', text: 'Recovered answer.' },
    );
    const events = await streamChat('hello');
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { response: 'Recovered answer.' } });
    expect(perch.upstream.messageRequests).toHaveLength(2);
  });

  it('gives up after the retries and says Claude is overloaded', async () => {
    const overloaded = { kind: 'stream-error', type: 'overloaded_error', message: 'Overloaded' } as const;
    perch.upstream.enqueue(overloaded, overloaded, overloaded);
    const events = await streamChat('hello');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { error: { type: 'upstream_overloaded' } } });
    expect(perch.upstream.messageRequests).toHaveLength(3);
  });

  it('ends cleanly as partial when the overload arrives after text', async () => {
    perch.upstream.enqueue({
      kind: 'stream-error',
      textBefore: 'The first half',
      type: 'overloaded_error',
      message: 'Overloaded',
    });
    const events = await streamChat('hello');
    const deltas = events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text);
    expect(deltas.join('')).toBe('The first half');
    const last = events.at(-1);
    expect(last?.event).toBe('error');
    expect(last?.data).toMatchObject({ error: { type: 'upstream_overloaded' }, partial_response: 'The first half' });
    expect(perch.upstream.messageRequests).toHaveLength(1);
    const { session_id } = events[0]?.data as { session_id: string };
    const [, answer] = await messagesOf(session_id);
    expect(answer).toMatchObject({ status: 'partial', content: 'The first half', error: { type: 'upstream_overloaded' } });
  });
});

describe('a broken upstream stream', () => {
  it('saves the text before a cut connection as partial and reports the cut', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'Half an ans' });
    const events = await streamChat('hello');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { error: { type: 'upstream_error' } } });
    const { session_id } = events[0]?.data as { session_id: string };
    const [, answer] = await messagesOf(session_id);
    expect(answer).toMatchObject({ status: 'partial', content: 'Half an ans' });
  });

  it('gives up on a stalled stream after claude.timeoutSeconds with 504', async () => {
    perch.service.core.settings.set('claude.timeoutSeconds', 1);
    perch.upstream.enqueue({ kind: 'stall', textBefore: 'And then' });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { type: string }; partial_response: string };
    expect(body.error.type).toBe('upstream_timeout');
    expect(body.partial_response).toBe('And then');
    await perch.upstream.waitForClientAbort();
  });

  it('stays healthy after failures and answers the next question', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'x' });
    await streamChat('first');
    const res = await perch.request('/api/v1/chat', { json: { message: 'second' } });
    expect(res.status).toBe(200);
  });
});
