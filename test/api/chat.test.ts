import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSse, startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeEach(async () => {
  perch = await startTestPerch();
});
afterEach(async () => {
  await perch.stop();
});

interface ChatAnswer {
  response: string;
  session_id: string;
  message_id: string;
  model: string;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
  tokens_used: number;
  cost_usd: number;
}

describe('POST /api/v1/chat (JSON)', () => {
  it('answers with the response, ids, model, usage, tokens_used and an estimated cost', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Hello! How can I help?' });
    const res = await perch.request('/api/v1/chat', { json: { message: 'Hi there' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChatAnswer;
    expect(body.response).toBe('Hello! How can I help?');
    expect(body.session_id).toMatch(/^ses_/);
    expect(body.message_id).toMatch(/^msg_/);
    expect(body.model).toBe('claude-sonnet-5-5');
    expect(body.stop_reason).toBe('end_turn');
    expect(body.usage.input_tokens).toBeGreaterThan(0);
    expect(body.usage.output_tokens).toBeGreaterThan(0);
    expect(body.tokens_used).toBe(body.usage.input_tokens + body.usage.output_tokens);
    expect(body.cost_usd).toBeGreaterThan(0);
  });

  it('sends the message to Claude as written, with the real key and never the Perch token', async () => {
    const message = '  Keep  my   spacing\nand newlines  ';
    await perch.request('/api/v1/chat', { json: { message } });
    const [request] = perch.upstream.messageRequests;
    const body = request?.body as { messages: Array<{ role: string; content: Array<{ type: string; text: string }> }> };
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: message }] }]);
    const presented = request?.headers['x-api-key'] ?? request?.headers.authorization?.replace(/^Bearer /, '');
    expect(presented).toBe(TEST_API_KEY);
    expect(JSON.stringify(request?.headers)).not.toContain(perch.token);
  });

  it('includes the context before the question and honours system, model and max_tokens', async () => {
    await perch.request('/api/v1/chat', {
      json: {
        message: 'What does this do?',
        context: 'const x = 1;',
        system: 'Be terse.',
        model: 'claude-haiku-5-5',
        max_tokens: 50,
      },
    });
    const body = perch.upstream.messageRequests[0]?.body as Record<string, unknown>;
    expect(body.system).toBe('Be terse.');
    expect(body.model).toBe('claude-haiku-5-5');
    expect(body.max_tokens).toBe(50);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: '<context>\nconst x = 1;\n</context>' },
          { type: 'text', text: 'What does this do?' },
        ],
      },
    ]);
  });

  it('continues a session: the second question carries the first exchange', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Paris.' }, { kind: 'answer', text: 'About 2.1 million.' });
    const first = (await (await perch.request('/api/v1/chat', { json: { message: 'Capital of France?' } })).json()) as ChatAnswer;
    const second = (await (
      await perch.request('/api/v1/chat', { json: { message: 'Its population?', session_id: first.session_id } })
    ).json()) as ChatAnswer;
    expect(second.session_id).toBe(first.session_id);
    const body = perch.upstream.messageRequests[1]?.body as { messages: unknown[] };
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Capital of France?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Paris.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Its population?' }] },
    ]);
  });

  it('answers 404 for an unknown session and saves nothing', async () => {
    const res = await perch.request('/api/v1/chat', { json: { message: 'hi', session_id: 'ses_missing' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
    expect(perch.service.core.conversations.counts()).toEqual({ sessions: 0, messages: 0 });
    expect(perch.upstream.messageRequests).toHaveLength(0);
  });
});

describe('POST /api/v1/chat (streaming)', () => {
  it('streams start, deltas and done with stream: true', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'One, two, three, four.', chunks: 4 });
    const res = await perch.request('/api/v1/chat', { json: { message: 'Count', stream: true } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await res.text());
    expect(events[0]?.event).toBe('start');
    const start = events[0]?.data as { session_id: string; message_id: string };
    const deltas = events.filter((event) => event.event === 'delta').map((event) => (event.data as { text: string }).text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('One, two, three, four.');
    const done = events.at(-1);
    expect(done?.event).toBe('done');
    expect(done?.data).toMatchObject({
      response: 'One, two, three, four.',
      session_id: start.session_id,
      message_id: start.message_id,
      stop_reason: 'end_turn',
    });
  });

  it('streams when the client asks with Accept: text/event-stream', async () => {
    const res = await perch.request('/api/v1/chat', { json: { message: 'Hi' }, headers: { accept: 'text/event-stream' } });
    const events = parseSse(await res.text());
    expect(events.map((event) => event.event)).toEqual(expect.arrayContaining(['start', 'delta', 'done']));
  });

  it('saves the streamed answer as complete with its usage', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Saved answer.' });
    const events = parseSse(await (await perch.request('/api/v1/chat', { json: { message: 'Hi', stream: true } })).text());
    const { session_id } = events[0]?.data as { session_id: string };
    const session = (await (await perch.request(`/api/v1/sessions/${session_id}`)).json()) as {
      messages: Array<{ role: string; content: string; status: string; usage: unknown }>;
    };
    expect(session.messages.map((message) => [message.role, message.content, message.status])).toEqual([
      ['user', 'Hi', 'complete'],
      ['assistant', 'Saved answer.', 'complete'],
    ]);
    expect(session.messages[1]?.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
  });
});
